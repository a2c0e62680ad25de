// Bundles GraphiQL into ../../server/static/graphiql/: the page's script and style (content-hashed
// names, listed in manifest.json for server/graphiql.py), Monaco's workers and its icon font, and
// THIRD_PARTY_LICENSES.txt with the licence of every package in the bundle. No code splitting: the
// CSS that lazily imported modules (Monaco) bring would land in chunks nothing loads.
import { build } from "esbuild";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(here, "../../server/static/graphiql");
const common = {
  absWorkingDir: here,
  bundle: true,
  minify: true,
  metafile: true,
  legalComments: "none", // the licences go into THIRD_PARTY_LICENSES.txt, whole
  target: ["es2022"],
  outdir,
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"' },
};

// Packages that ship no licence file, and a package of the same authors and licence (the same
// repository, or for react-remove-scroll-bar the same author) whose file is used instead.
const SAME_REPOSITORY = {
  "@graphiql/plugin-doc-explorer": "graphiql",
  "@graphiql/plugin-explorer": "graphiql",
  "@graphiql/plugin-history": "graphiql",
  "react-compiler-runtime": "react",
  "react-remove-scroll-bar": "react-remove-scroll",
};

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

const workers = await build({
  ...common,
  entryPoints: {
    editor: "monaco-editor/esm/vs/editor/editor.worker.js",
    json: "monaco-editor/esm/vs/language/json/json.worker.js",
    graphql: "monaco-graphql/esm/graphql.worker.js",
  },
  format: "iife",
  entryNames: "[name].worker-[hash]",
});

const app = await build({
  ...common,
  entryPoints: { graphiql: "src/main.jsx" },
  format: "esm",
  jsx: "automatic",
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  loader: { ".ttf": "file", ".woff": "file", ".woff2": "file" },
  define: { ...common.define, __WORKERS__: JSON.stringify(entryFiles(workers)) },
});

const script = entryFiles(app).graphiql;
const style = Object.values(app.metafile.outputs).find((output) => output.entryPoint === "src/main.jsx")?.cssBundle;
if (!script || !style) throw new Error("esbuild made no graphiql script or style");
writeFileSync(join(outdir, "manifest.json"), `${JSON.stringify({ script, style: basename(style) }, null, 2)}\n`);
writeFileSync(join(outdir, "THIRD_PARTY_LICENSES.txt"), licences([workers, app]));

// {name: file} of each entry point's JavaScript output.
function entryFiles(result) {
  const files = {};
  for (const [path, output] of Object.entries(result.metafile.outputs)) {
    if (output.entryPoint && path.endsWith(".js")) files[basename(path).split(/[.-]/)[0]] = basename(path);
  }
  return files;
}

// Every package whose files are in the outputs: name, version, licence and its licence text.
function licences(results) {
  const packages = new Map(); // "name version" -> [directory, package.json]
  for (const result of results) {
    for (const input of Object.keys(result.metafile.inputs)) {
      const root = packageRoot(resolve(here, input));
      if (!root) continue;
      const pkg = JSON.parse(readFileSync(join(root, "package.json")));
      packages.set(`${pkg.name} ${pkg.version}`, [root, pkg]);
    }
  }
  const sections = [...packages.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, [root, pkg]]) => {
      let texts = licenceTexts(root);
      let from = "";
      if (!texts.length && SAME_REPOSITORY[pkg.name]) {
        texts = licenceTexts(join(here, "node_modules", SAME_REPOSITORY[pkg.name]));
        from = ` (the package ships no licence file; this is the one of ${SAME_REPOSITORY[pkg.name]}, by the same authors)`;
      }
      if (!texts.length) throw new Error(`no licence text for ${id}: add it to SAME_REPOSITORY`);
      return `${"=".repeat(78)}\n${id} (${pkg.license})${from}\n${"=".repeat(78)}\n\n${texts.join("\n\n")}\n`;
    });
  const header =
    "Third-party software in the GraphiQL bundle of tenantgraph (server/static/graphiql/),\n" +
    `built by web/build.sh graphiql from the packages pinned in web/graphiql/package-lock.json.\n` +
    `${packages.size} packages; each with its licence as shipped in its npm package.\n\n`;
  return header + sections.join("\n");
}

// The licence, and the notices an Apache-2.0 or bundling package asks to pass on.
function licenceTexts(root) {
  return readdirSync(root)
    .filter((name) => /^(licen[cs]e|copying|notice|thirdpartynotices)/i.test(name))
    .map((name) => readFileSync(join(root, name), "utf8").trim());
}

// The directory of the npm package that holds `file` (the nearest package.json with a name).
function packageRoot(file) {
  if (!file.includes(`${"/"}node_modules${"/"}`)) return null;
  for (let dir = dirname(file); dir.includes("node_modules"); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest)).name) return dir;
  }
  return null;
}
