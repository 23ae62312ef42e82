// Heredoc helpers for the executor. The parser stores bodies un-chomped.

/** `<<-` bodies: removes every leading tab of every line (BuildKit's ChompHeredocContent). */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}
