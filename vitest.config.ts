import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests share one lab (one bridge, one set of namespaces): run files one at a time.
    fileParallelism: false,
    testTimeout: 300_000,
    // A suite's setup brings up its lab (VMs under emulation for the qemu one): minutes, on a busy machine more.
    hookTimeout: 900_000,
    reporters: ['default'],
  },
});
