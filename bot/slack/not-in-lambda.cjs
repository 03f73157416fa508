'use strict';
// The bot's bundle puts this module in place of the packages that only Bolt's HTTP and Socket Mode
// receivers use (`botAliases` in esbuild.config.ts). The Lambda runs AwsLambdaReceiver, so nothing
// should ever read from it; if something does, it fails loudly. `__esModule` is asked by the
// receivers' import helpers as Bolt's App module loads, so that one answers quietly.
module.exports = new Proxy(
  {},
  {
    get(_target, key) {
      if (key === '__esModule' || typeof key === 'symbol') return undefined;
      throw new Error(
        `'${key}' is not in the bot's bundle: it leaves out the packages of Bolt's HTTP and Socket Mode ` +
          `receivers (botAliases in esbuild.config.ts). The Lambda must use AwsLambdaReceiver.`,
      );
    },
  },
);
