// `npm test` needs etcd, BIRD and Go (the reference renderer of perch convert's test), which npm cannot install. Install them from Debian's packages
// when running as root (CI, a fresh machine), or name the missing packages and fail.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const needs = [
  { pkg: "etcd-server", binaries: ["/usr/bin/etcd"] },
  { pkg: "bird", binaries: ["/usr/sbin/bird", "/usr/sbin/bird6", "/usr/sbin/birdc"] },
  { pkg: "iproute2", binaries: ["/usr/sbin/ip", "/sbin/ip", "/bin/ip"], any: true },
  { pkg: "openssl", binaries: ["/usr/bin/openssl"] },
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
