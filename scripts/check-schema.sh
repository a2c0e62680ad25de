#!/usr/bin/env bash
# The breaking-change check of CI: the working tree's schema.graphql against BASE's (HEAD~1 by
# default), in the git repository of the current directory:
#
#     bash scripts/check-schema.sh [BASE]
#
# @graphql-inspector/cli (tools/schema-check, installed from its package-lock.json with Node 22)
# fails on a breaking change: a removed type, field, argument, input field or enum value, a changed
# type, a new required argument or input field. A removal passes when BASE marked the element
# @deprecated (tools/schema-check/deprecated-removals.js): deprecate in one commit, remove in a
# later one. Additions and description changes pass. Without BASE or its schema.graphql (the first
# commit, a shallow clone) the check is skipped with a message.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/tools/schema-check"
base="${1:-HEAD~1}"

bash "$root/scripts/npm-ci.sh" "$tools"

if [ ! -f schema.graphql ]; then
    echo "check-schema: no schema.graphql in $(pwd); run \`tenantgraph export-schema\`" >&2
    exit 1
fi
if ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
    echo "check-schema: skipped: no commit $base to compare with (first commit or shallow clone)"
    exit 0
fi
if ! git cat-file -e "$base:schema.graphql" 2>/dev/null; then
    echo "check-schema: skipped: $base has no schema.graphql"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat "$tools/federation.graphql" >"$work/old.graphql"
git show "$base:schema.graphql" >>"$work/old.graphql"
cat "$tools/federation.graphql" schema.graphql >"$work/new.graphql"
echo "check-schema: schema.graphql against $base ($(git rev-parse --short "$base"))"
"$tools/node_modules/.bin/node" "$tools/node_modules/.bin/graphql-inspector" diff \
    "$work/old.graphql" "$work/new.graphql" --rule "$tools/deprecated-removals.js"
