// The lexer's white space is \p{White_Space}, written out as a class without the `u` flag
// (src/frontend/dockerfile/shell.ts). These words were expanded with the \p classes before: the
// results must not change, white space outside ASCII, stop characters, escapes, heredoc words and
// surrogate pairs included.
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

test('words split and expand as they did with the \\p{White_Space} patterns', (t) => {
  for (const [word, escape, opts, result, words] of cases) {
    t.is(processWord(word, env, escape, opts), result, word);
    t.deepEqual(processWords(word, env, escape, opts), words, word);
  }
});
