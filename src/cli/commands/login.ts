// `nbuild login REGISTRY [-u USER] [--password-stdin]`: check the credentials against the
// registry, then store them in the auth file. The password is never echoed nor logged.
import type { Argv } from 'yargs';
import { UsageError } from '../../errors.js';
import type { NbuildCommand } from '../command.js';

interface LoginArgs {
  registry: string;
  username?: string;
  password?: string;
  'password-stdin': boolean;
  authfile?: string;
  'tls-verify': boolean;
}

export const loginCommand: NbuildCommand<LoginArgs> = {
  userns: false,
  command: 'login <registry>',
  describe: 'log in to a registry: verify the credentials and store them in the auth file',
  builder: (y: Argv) =>
    y
      .positional('registry', { type: 'string', demandOption: true, describe: 'registry host[:port] (docker.io for Docker Hub)' })
      .option('username', { alias: 'u', type: 'string', describe: 'user name (asked for when missing and on a terminal)' })
      .option('password', { alias: 'p', type: 'string', describe: 'password (prefer --password-stdin: command lines are visible to other users)' })
      .option('password-stdin', { type: 'boolean', default: false, describe: 'read the password from stdin' })
      .option('authfile', { type: 'string', describe: 'auth file to write (default $REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json or ~/.docker/config.json)' })
      .option('tls-verify', { type: 'boolean', default: true, describe: 'require HTTPS with a valid certificate' }) as unknown as Argv<LoginArgs>,
  handler: async (args) => {
    const { verifyLogin } = await import('../../registry/login.js');
    const { storeCredentials, defaultAuthFile, loginKey } = await import('../../registry/auth-config.js');
    const registry = normaliseRegistry(args.registry);
    const username = args.username ?? (await prompt('Username: ', false));
    if (!username) throw new UsageError('login needs a user name (-u USER)');
    let password = args.password;
    if (args['password-stdin']) password = (await readStdin()).replace(/\r?\n$/, '');
    else if (password === undefined) password = await prompt('Password: ', true);
    if (!password) throw new UsageError('login needs a password (--password-stdin)');
    await verifyLogin(registry, { username, password }, { tlsVerify: args['tls-verify'] });
    const file = args.authfile ?? defaultAuthFile();
    await storeCredentials(file, loginKey(registry), { username, password });
    process.stdout.write(`Login Succeeded (${registry}, saved in ${file})\n`);
  },
};

/** normaliseRegistry accepts `https://host/` and Docker Hub's aliases. */
export function normaliseRegistry(text: string): string {
  const host = text.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
  return ['index.docker.io', 'registry-1.docker.io', 'docker.io'].includes(host) ? 'docker.io' : host;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

async function prompt(question: string, secret: boolean): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError(`login: ${secret ? 'no password (use --password-stdin)' : 'no user name (use -u)'} and stdin is not a terminal`);
  const readline = await import('node:readline');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  if (secret) {
    // Print the question, then swallow the echo of what is typed.
    process.stderr.write(question);
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  }
  const answer = await new Promise<string>((resolve) => rl.question(secret ? '' : question, resolve));
  rl.close();
  if (secret) process.stderr.write('\n');
  return answer;
}
