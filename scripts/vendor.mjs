// Copy the front-end libraries the pages load from node_modules into shared/static/vendor,
// with the licence of every package whose code ends up in a copied file.
// Run by `make vendor` (npm ci && npm run vendor); the output directory is not committed.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const target = join(root, "shared", "static", "vendor");

// package: the files served under /static/vendor/, and the packages bundled into them.
const libraries = [
  {
    package: "socket.io-client",
    files: { "dist/socket.io.min.js": "socket.io.min.js",
             "dist/socket.io.min.js.map": "socket.io.min.js.map" },
    bundled: ["engine.io-client", "engine.io-parser", "socket.io-parser",
              "@socket.io/component-emitter"],
  },
  {
    package: "chart.js",
    files: { "dist/chart.umd.min.js": "chart.umd.min.js" },
    bundled: ["@kurkle/color"],
  },
  {
    package: "jsqr",
    files: { "dist/jsQR.js": "jsQR.js" },
    bundled: [],
  },
];

const licenceNames = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license", "license.md", "COPYING"];

function packageDir(name) {
  const dir = join(modules, name);
  if (!existsSync(join(dir, "package.json"))) {
    throw new Error(`${name} is not installed: run npm ci first`);
  }
  return dir;
}

function copyLicence(name) {
  const dir = packageDir(name);
  const found = licenceNames.find((file) => existsSync(join(dir, file)));
  if (!found) throw new Error(`${name} has no licence file`);
  const out = `${name.replace("@", "").replace("/", "-")}.LICENSE.txt`;
  copyFileSync(join(dir, found), join(target, "licenses", out));
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  return { name, version: meta.version, license: meta.license, file: `licenses/${out}` };
}

rmSync(target, { recursive: true, force: true });
mkdirSync(join(target, "licenses"), { recursive: true });
const manifest = [];
for (const library of libraries) {
  const dir = packageDir(library.package);
  for (const [from, to] of Object.entries(library.files)) {
    copyFileSync(join(dir, from), join(target, to));
  }
  manifest.push({ ...copyLicence(library.package), files: Object.values(library.files),
                  bundled: library.bundled.map(copyLicence) });
}
writeFileSync(join(target, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`vendored ${manifest.map((m) => `${m.name}@${m.version}`).join(", ")} into ${target}`);
