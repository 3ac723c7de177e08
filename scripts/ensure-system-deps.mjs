// `npm test` needs etcd, BIRD and the tools below, which npm cannot install. Install them from Debian's packages
// when running as root (CI, a fresh machine), or name the missing packages and fail.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const needs = [
  { pkg: "etcd-server", binaries: ["/usr/bin/etcd"] },
  { pkg: "bird", binaries: ["/usr/sbin/bird", "/usr/sbin/bird6", "/usr/sbin/birdc"] },
  { pkg: "iproute2", binaries: ["/usr/sbin/ip", "/sbin/ip", "/bin/ip"], any: true },
  { pkg: "openssl", binaries: ["/usr/bin/openssl"] },
  // deploy/: the runit service under runsv, systemd-notify (perch sends with it) and systemd-analyze
  // verify for the unit, python3's YAML for the DaemonSet and its unix datagram socket for sd_notify.
  { pkg: "runit", binaries: ["/usr/bin/runsv", "/usr/bin/sv", "/usr/bin/svlogd"] },
  { pkg: "systemd", binaries: ["/usr/bin/systemd-notify", "/usr/bin/systemd-analyze"] },
  { pkg: "python3-yaml", binaries: ["/usr/bin/python3", "/usr/lib/python3/dist-packages/yaml/__init__.py"] },
  // Go's own text/template: the reference renderer of perch convert's differential test.
  { pkg: "golang-go", binaries: ["/usr/bin/go"] },
];

const missing = needs
  .filter(({ binaries, any }) => (any ? !binaries.some(existsSync) : !binaries.every(existsSync)))
  .map(({ pkg }) => pkg);

if (missing.length > 0) {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot) {
    console.error(`perch tests need these Debian packages: ${missing.join(" ")}\n  install them: sudo apt-get install -y ${missing.join(" ")}`);
    process.exit(1);
  }
  console.error(`installing ${missing.join(" ")} (apt-get) for the integration tests …`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  try {
    execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { stdio: "inherit", env });
  } catch {
    console.error(`could not install ${missing.join(" ")}; install them by hand: apt-get install -y ${missing.join(" ")}`);
    process.exit(1);
  }
}
