// Bundles the demo dashboard's script into ../../server/static/demo/ (dashboard.js, with
// graphql-ws inside) and writes THIRD_PARTY_LICENSES.txt with the licence of every package in it.
import { build } from "esbuild";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(here, "../../server/static/demo");
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

const result = await build({
  absWorkingDir: here,
  entryPoints: { dashboard: "src/dashboard.js" },
  bundle: true,
  minify: true,
  metafile: true,
  legalComments: "none", // the licences go into THIRD_PARTY_LICENSES.txt, whole
  format: "esm",
  target: ["es2022"],
  outdir,
  logLevel: "warning",
});

const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (match) packages.set(match[1], join(here, "node_modules", match[1]));
}
const sections = [...packages.entries()].sort().map(([name, root]) => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json")));
  const texts = readdirSync(root)
    .filter((file) => /^(licen[cs]e|copying|notice)/i.test(file))
    .map((file) => readFileSync(join(root, file), "utf8").trim());
  if (!texts.length) throw new Error(`no licence text for ${name}`);
  return `${"=".repeat(78)}\n${name} ${pkg.version} (${pkg.license})\n${"=".repeat(78)}\n\n${texts.join("\n\n")}\n`;
});
writeFileSync(
  join(outdir, "THIRD_PARTY_LICENSES.txt"),
  "Third-party software in the demo dashboard of tenantgraph (server/static/demo/dashboard.js),\n" +
    "built by web/build.sh demo from the packages pinned in web/demo/package-lock.json.\n\n" +
    sections.join("\n"),
);
