// Extracts every ```ts / ```tsx code sample from the docs into the examples, where `tsc` type-checks
// them against the real packages, so the docs cannot drift from the code.
// React samples go to examples/react-vite/doc-samples, the rest to examples/node/doc-samples.
// A sample whose fence reads ```ts no-check is skipped (for fragments that are deliberately partial).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const docs = [join(root, "README.md")];
for (const dir of ["packages", "examples"]) {
  for (const pkg of readdirSync(join(root, dir))) {
    const readme = join(root, dir, pkg, "README.md");
    if (existsSync(readme)) docs.push(readme);
    const docsDir = join(root, dir, pkg, "docs");
    if (existsSync(docsDir)) for (const f of readdirSync(docsDir)) if (f.endsWith(".md")) docs.push(join(docsDir, f));
  }
}

const targets = { node: join(root, "examples/node/doc-samples"), react: join(root, "examples/react-vite/doc-samples") };
for (const dir of Object.values(targets)) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

let count = 0;
for (const file of docs) {
  const text = readFileSync(file, "utf8");
  const fence = /^```(ts|tsx|typescript)([^\n]*)\n([\s\S]*?)^```/gm;
  let n = 0;
  for (const match of text.matchAll(fence)) {
    const [, lang, info, code] = match;
    if (info.includes("no-check")) continue;
    const name = relative(root, file).replace(/[\\/]/g, "__").replace(/\.md$/, "");
    const react = lang === "tsx" || /@kontext-sdk\/react|from "react"/.test(code);
    const out = join(react ? targets.react : targets.node, `${name}__${++n}.${react ? "tsx" : "ts"}`);
    const line = text.slice(0, match.index).split("\n").length;
    writeFileSync(
      out,
      `// extracted from ${relative(root, file)}:${line} by scripts/extract-doc-samples.mjs\n${code}\nexport {};\n`,
    );
    count++;
  }
}
console.log(`extracted ${count} doc samples from ${docs.length} files`);
