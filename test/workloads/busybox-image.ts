import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runLocal } from '../../src/util/run-local.ts';

/**
 * A tiny image for deploy tests, built as a user would build one without Docker: a busybox-static
 * rootfs → an OCI layout (umoci) → a `docker save`-format archive (skopeo).
 *
 * It serves on PORT (8095 by default, from the image's Env):
 *   /                  index.html (the health check)
 *   /cgi-bin/instance  an id written once by the entrypoint: a restored process keeps it, a restart writes a new one
 *   /cgi-bin/counter   a number a shell loop increments in memory every 100 ms (a restore continues it, a restart starts over)
 */
export const IMAGE_PORT = 8095;

const START = `#!/bin/sh
# The instance id: read from the kernel once per start (a restored container never runs this again).
cat /proc/sys/kernel/random/uuid > /tmp/instance
# The counter lives in this loop's memory; the file only shows it.
( i=0; while :; do i=$((i+1)); echo $i > /tmp/counter.new; mv /tmp/counter.new /tmp/counter; sleep 0.1; done ) &
exec /bin/busybox httpd -f -p "\${PORT:-${IMAGE_PORT}}" -h /www
`;

const cgi = (file: string) => `#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
cat ${file}
`;

/** Builds the rootfs, the OCI layout and the archive under DIR; returns the archive's path. */
export async function buildBusyboxImage(dir: string, tag = 'ferry-test/img1:1'): Promise<string> {
  const rootfs = join(dir, 'image-rootfs');
  for (const d of ['bin', 'www/cgi-bin', 'tmp', 'proc', 'sys', 'dev', 'etc']) await mkdir(join(rootfs, d), { recursive: true });
  await runLocal('cp', ['/bin/busybox', join(rootfs, 'bin/busybox')]);
  for (const applet of ['sh', 'cat', 'mv', 'sleep', 'echo', 'httpd', 'test', 'printf']) await symlink('busybox', join(rootfs, 'bin', applet));
  await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\n');
  await writeFile(join(rootfs, 'www/index.html'), 'img1\n');
  await writeFile(join(rootfs, 'start.sh'), START, { mode: 0o755 });
  await writeFile(join(rootfs, 'www/cgi-bin/instance'), cgi('/tmp/instance'), { mode: 0o755 });
  await writeFile(join(rootfs, 'www/cgi-bin/counter'), cgi('/tmp/counter'), { mode: 0o755 });
  await chmod(join(rootfs, 'tmp'), 0o1777);

  const layout = join(dir, 'layout');
  const img = `${layout}:img1`;
  await runLocal('umoci', ['init', '--layout', layout]);
  await runLocal('umoci', ['new', '--image', img]);
  await runLocal('umoci', ['insert', '--image', img, rootfs, '/']);
  await runLocal('umoci', [
    'config', '--image', img,
    '--config.entrypoint', '/bin/sh', '--config.cmd', '/start.sh',
    '--config.env', `PORT=${IMAGE_PORT}`, '--config.workingdir', '/www', '--config.exposedports', `${IMAGE_PORT}/tcp`,
  ]);
  const archive = join(dir, 'img1.tar');
  await runLocal('skopeo', ['copy', '--quiet', '--insecure-policy', `oci:${img}`, `docker-archive:${archive}:${tag}`]);
  return archive;
}
