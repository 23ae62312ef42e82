// `nbuild store check [--repair]`: verify every blob, name, image and unpacked layer.
import type { Argv, CommandModule } from 'yargs';
import { NbuildError } from '../../errors.js';
import type { NbuildCommand } from '../command.js';
import { resolveStoreRoot } from '../global-options.js';

interface CheckArgs {
  repair: boolean;
  root?: string;
}

const checkSub: CommandModule<object, CheckArgs> = {
  command: 'check',
  describe: 'verify every blob, name and unpacked layer of the store',
  builder: (y: Argv) => y.option('repair', { type: 'boolean', default: false, describe: 'remove what is broken (and the images that need it)' }) as unknown as Argv<CheckArgs>,
  handler: async (args) => {
    const [{ enterUserNamespace }, { checkStore }] = await Promise.all([import('../../sandbox/index.js'), import('../../images/check.js')]);
    await enterUserNamespace();
    const r = await checkStore({ storeRoot: resolveStoreRoot(args.root), repair: args.repair });
    const left = new Set(r.notRepaired);
    for (const p of r.problems) if (!left.has(p)) process.stdout.write(`${args.repair ? 'repaired' : 'problem'}: ${p}\n`);
    for (const p of left) process.stdout.write(`problem: ${p} (not repaired: another nbuild process uses the store; run again when it is done)\n`);
    process.stdout.write(`${r.blobs} blob(s), ${r.images} image(s), ${r.layers} unpacked layer(s) checked; ${r.problems.length} problem(s)${args.repair ? `, ${r.repaired} repaired` : ''}\n`);
    if (r.problems.length > r.repaired) throw new NbuildError('STORE_CORRUPT', `the store has ${r.problems.length - r.repaired} problem(s); run 'nbuild store check --repair'`);
  },
};

export const storeCommand: NbuildCommand<object> = {
  command: 'store <command>',
  userns: true,
  describe: 'maintain the local store',
  builder: (y: Argv) => y.command(checkSub).demandCommand(1, 'name a store command: check'),
  handler: () => undefined,
};
