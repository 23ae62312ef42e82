// `nbuild buildx build …` is `nbuild build …`: a CI line written for `docker buildx build`
// (docker/build-push-action runs `docker buildx build …`) works with `docker` replaced by `nbuild`.
// Only `buildx build` (and buildx's short `buildx b`); other buildx commands stay unknown.

/** Drops the word `buildx` when it is the command and `build` follows it. */
export function dropBuildxPrefix(argv: readonly string[], globalValueFlags: readonly string[] = ['--root', '--log-level']): string[] {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (globalValueFlags.includes(a)) {
      i++; // its value
      continue;
    }
    if (a.startsWith('-')) continue;
    if (a !== 'buildx' || (argv[i + 1] !== 'build' && argv[i + 1] !== 'b')) break;
    return [...argv.slice(0, i), 'build', ...argv.slice(i + 2)];
  }
  return [...argv];
}
