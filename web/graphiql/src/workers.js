// Monaco's editor workers, served next to this bundle (build.mjs bundles each one on its own and
// passes their hashed file names in __WORKERS__): nothing is fetched from another origin.
const files = __WORKERS__;

globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const file = files[label] ?? files.editor;
    return new Worker(new URL(`./${file}`, import.meta.url), { name: label });
  },
};
