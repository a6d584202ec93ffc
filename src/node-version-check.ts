/**
 * Imported first by main.ts, and importing nothing itself: on a Node.js older than Hubbub needs, the modules
 * loaded after this one would fail with a stack trace (`node:sqlite` is unknown before Node 22, for one). This
 * stops the start with one line instead. Keep the syntax plain so that old versions can parse it.
 */
export const REQUIRED_NODE_MAJOR = 24;

export function nodeVersionProblem(version: string): string | undefined {
  const major = Number(version.split('.')[0]);
  if (major >= REQUIRED_NODE_MAJOR) return undefined;
  return `Hubbub needs Node.js ${REQUIRED_NODE_MAJOR} or newer; this is Node.js ${version}. Install Node.js ${REQUIRED_NODE_MAJOR} LTS (see .nvmrc) and try again.`;
}

const problem = nodeVersionProblem(process.versions.node);
if (problem) {
  console.error(problem);
  process.exit(1);
}
