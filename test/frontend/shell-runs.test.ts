// The lexer takes runs of ordinary characters with one native match where a word has no
// surrogate pair, and one character at a time otherwise (src/frontend/dockerfile/shell.ts). These
// words were expanded by the character-at-a-time lexer before runs existed: both paths must still
// give its results, whitespace outside ASCII, stop characters, escapes and heredoc words included.
import test from 'ava';
import { processWord, processWords, type EscapeToken, type ShellOptions } from '../../src/frontend/dockerfile/shell.js';

const env = (n: string): string | undefined => ({ A: 'x y', B: 'b\u3000c', E: '' })[n];

const cases: [string, EscapeToken, ShellOptions, string, string[]][] = [
  ["plain words  and\ttabs","\\",{},"plain words  and\ttabs",["plain","words","and","tabs"]],
  ["a　bc d​e","\\",{},"a　bc d​e",["a","b","c","d​e"]],
  ["\"quoted 　 $A\" 'single $A' tail","\\",{},"quoted 　 x y single $A tail",["quoted 　 x y","single $A","tail"]],
  ["pre$A post ${B}x","\\",{},"prex y post b　cx",["prex","y","post","b","cx"]],
  ["${E:-de\\}f}/${A/x/z}","\\",{},"de}f/z y",["de}f/z","y"]],
  ["a`\"b`$c d`` e","`",{},"a\"b$c d` e",["a\"b$c","d`","e"]],
  ["keep \"q\" and \\$x","\\",{"rawQuotes":true,"rawEscapes":true},"keep \"q\" and \\$x",["keep","\"q\"","and","\\$x"]],
  ["cat <<  EOF > f","\\",{"heredocWords":true},"cat <<  EOF > f",["cat","<<  EOF",">","f"]],
  ["$UNSET and ${UNSET:-x}","\\",{"skipUnsetEnv":true},"$UNSET and ${UNSET:-x}",["$UNSET","and","${UNSET:-x}"]],
  ["\"not quoted\" 'either'","\\",{"skipProcessQuotes":true},"\"not quoted\" 'either'",["\"not","quoted\"","'either'"]],
  ["emoji 😀 \"in 😀 quotes $A\" ok","\\",{},"emoji 😀 in 😀 quotes x y ok",["emoji","😀","in 😀 quotes x y","ok"]],
];

test('runs of ordinary characters expand as one character at a time did', (t) => {
  for (const [word, escape, opts, result, words] of cases) {
    t.is(processWord(word, env, escape, opts), result, word);
    t.deepEqual(processWords(word, env, escape, opts), words, word);
  }
});
