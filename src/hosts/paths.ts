/** Fixed paths every Ferry host has (README.md, "The qemu lab": "Every host, lab or real, looks the same"). */
export const HOST_PATHS = {
  containers: '/var/lib/ferry/containers',
  images: '/var/lib/ferry/images',
  runcRoot: '/run/ferry/runc',
  work: '/run/ferry',
  /** Runs its arguments with stdio on /dev/null: CRIU cannot dump a container whose stdio is a host file or an SSH pipe. */
  detached: '/usr/local/libexec/ferry/detached',
  /** Ferry's helpers on a host (playbooks/provision.yml installs them). */
  libexec: '/usr/local/libexec/ferry',
  /** Journal records of migrations whose source this host is (they survive the controller and Redis). */
  journal: '/var/lib/ferry/journal',
} as const;

export const bundleDir = (name: string) => `${HOST_PATHS.containers}/${name}`;
export const cgroupPath = (host: string, name: string) => `/ferry/${host}/${name}`;
