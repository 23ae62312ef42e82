// The typed form of a Dockerfile: one type per instruction, tagged by `kind`.
// Produced by `instructions.ts` from the parser's AST; consumed by the planner
// and executor. Words are kept *unexpanded* here (variables are substituted at
// build time with the stage's environment, see `expand.ts`).
import type { DockerfileAst } from './ast.js';

export interface Position {
  line: number; // 1-based physical line
  column: number; // 1-based
}

export interface SourceRange {
  start: Position;
  end: Position;
}

/** Where an instruction came from; every instruction carries one. */
export interface InstructionSource {
  file: string;
  range: SourceRange;
  /** The instruction as written (continuations joined), for history and messages. */
  original: string;
}

export interface Heredoc {
  name: string;
  content: string; // raw body, un-chomped, line endings kept
  expand: boolean; // false when the delimiter was quoted
  chomp: boolean; // <<- : strip leading tabs
  fileDescriptor?: number;
}

/** Exec form keeps the JSON array; shell form keeps the raw text (run through SHELL). */
export type CommandLine =
  | { form: 'exec'; args: string[] }
  | { form: 'shell'; script: string };

export type RunMount =
  | { type: 'bind'; target: string; source?: string; from?: string; readwrite: boolean }
  | {
      type: 'cache';
      target: string;
      id?: string;
      sharing: 'shared' | 'private' | 'locked';
      from?: string;
      source?: string;
      readonly: boolean;
      mode?: number;
      uid?: number;
      gid?: number;
    }
  | { type: 'tmpfs'; target: string; size?: number }
  | { type: 'secret'; id: string; target?: string; env?: string; required: boolean; mode?: number; uid?: number; gid?: number }
  | { type: 'ssh'; id?: string; target?: string; required: boolean; mode?: number; uid?: number; gid?: number };

export interface KeyValue {
  key: string;
  value: string;
}

export interface ArgDefinition {
  name: string;
  /** undefined when written as `ARG NAME` (no default). */
  defaultValue?: string;
}

import type { Chmod } from './chmod.js';
import type { Chown } from './chown.js';

/**
 * --chmod: octal (`0755`) or symbolic (`u=rwx,g=rx,o=rx`, `+x`), parsed (chmod.ts); a value
 * holding variables (`${mode}`) is parsed once expanded (expand.ts), until then only `text` is set.
 */
export type ChmodSpec = Chmod;

/**
 * --chown: USER[:GROUP], each a name or a numeric id, parsed (chown.ts); a value holding
 * variables (`${owner}:${group}`) is parsed once expanded (expand.ts), until then only `text` is set.
 */
export type ChownSpec = Chown;

interface Base {
  source: InstructionSource;
}

export interface FromInstruction extends Base {
  kind: 'from';
  image: string; // unexpanded (FROM expands with global ARGs only)
  stageName?: string; // as written after AS (lower-cased by the planner)
  platform?: string;
}

export interface RunInstruction extends Base {
  kind: 'run';
  command: CommandLine;
  heredocs: Heredoc[];
  /** `--mount` values as written; parsed (variables expanded) per step by expandRunMounts. */
  mountSpecs: string[];
  network?: 'default' | 'none' | 'host';
  security?: 'sandbox' | 'insecure';
}

export interface CmdInstruction extends Base {
  kind: 'cmd';
  command: CommandLine;
}

export interface EntrypointInstruction extends Base {
  kind: 'entrypoint';
  command: CommandLine;
}

export interface ShellInstruction extends Base {
  kind: 'shell';
  shell: string[];
}

export interface EnvInstruction extends Base {
  kind: 'env';
  pairs: KeyValue[];
}

export interface LabelInstruction extends Base {
  kind: 'label';
  pairs: KeyValue[];
}

export interface MaintainerInstruction extends Base {
  kind: 'maintainer';
  name: string;
}

export interface ExposeInstruction extends Base {
  kind: 'expose';
  ports: string[]; // unexpanded words, e.g. "80/tcp", "$PORT"
}

export interface CopyInstruction extends Base {
  kind: 'copy';
  sources: string[]; // unexpanded
  dest: string;
  heredocs: Heredoc[]; // COPY <<EOF /dest
  from?: string;
  chown?: ChownSpec;
  chmod?: ChmodSpec;
  link: boolean;
  parents: boolean;
  exclude: string[];
}

export interface AddInstruction extends Base {
  kind: 'add';
  sources: string[];
  dest: string;
  heredocs: Heredoc[];
  chown?: ChownSpec;
  chmod?: ChmodSpec;
  link: boolean;
  checksum?: string;
  keepGitDir: boolean;
  unpack?: boolean;
  exclude: string[];
}

export interface VolumeInstruction extends Base {
  kind: 'volume';
  paths: string[];
}

export interface UserInstruction extends Base {
  kind: 'user';
  user: string; // "name", "uid", "name:group", "uid:gid" (unexpanded)
}

export interface WorkdirInstruction extends Base {
  kind: 'workdir';
  path: string;
}

export interface ArgInstruction extends Base {
  kind: 'arg';
  args: ArgDefinition[];
}

export interface OnbuildInstruction extends Base {
  kind: 'onbuild';
  /** The trigger's text as Docker stores it in the config's OnBuild list. */
  expression: string;
  trigger: Instruction;
}

export interface StopsignalInstruction extends Base {
  kind: 'stopsignal';
  signal: string;
}

export interface HealthcheckInstruction extends Base {
  kind: 'healthcheck';
  /** `NONE` disables; otherwise Docker's Test array: ["CMD", ...] or ["CMD-SHELL", script]. */
  test: string[];
  interval?: number; // nanoseconds, as in Docker's config
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | EnvInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | CopyInstruction
  | AddInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | ArgInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction;

export type InstructionKind = Instruction['kind'];

/** One `FROM` and the instructions up to the next. */
export interface Stage {
  index: number;
  name?: string; // lower-cased stage name from `AS name`
  from: FromInstruction;
  instructions: Instruction[]; // excluding the FROM
}

export interface Warning {
  /** BuildKit's check name, e.g. "JSONArgsRecommended". */
  rule: string;
  message: string;
  file: string;
  line: number;
  /** The rule's description and documentation (BuildKit's). */
  description: string;
  url?: string;
  /** Set when the check runs as the stage is built: a build reports it only if it builds the stage. */
  stage?: number;
}

export interface Dockerfile {
  file: string;
  escape: '\\' | '`';
  syntax?: string;
  /** ARG instructions before the first FROM. */
  globalArgs: ArgInstruction[];
  stages: Stage[];
  /** The checks' warnings with no build options (checks.ts `lint` for a build's). */
  warnings: Warning[];
  /** The syntax tree it was typed from (the checks read keyword casing and comments). */
  ast: DockerfileAst;
}
