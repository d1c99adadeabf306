/**
 * examples/kubernetes-restricted.yaml (README, "Running without root"):
 * valid against Kubernetes' schema, passes every control of the
 * "restricted" Pod Security Standard (_pod_security.ts, whose check is
 * shown to catch a break of each), and the example app boots with the
 * engine flags that match the file: its uid and gid, a read-only root, an
 * emptyDir (a tmpfs of mode 0777) at each mount, no capability, no
 * privilege escalation, the engine's default seccomp profile (the runtime
 * default), its env. Its probes pass, the page answers, and a stop within
 * the grace period exits 0.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parse as parseYaml } from "../../node_modules/yaml/browser/index.js";
import {
  type Container,
  ENGINE,
  engine,
  engineOk,
  IMAGE,
  retireImage,
  tempDir,
  waitFor,
  withContainer,
} from "./_engine.ts";
import { RESTRICTED_CONTROLS, restrictedViolations } from "./_pod_security.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MANIFEST = `${ROOT}examples/kubernetes-restricted.yaml`;
/** The example app as this test builds it (on IMAGE). */
const APP_IMAGE = `${
  IMAGE.replace(/:[^:/]*$/, "")
}-example-restricted-test:latest`;

// deno-lint-ignore no-explicit-any
type Yaml = any;

async function manifest(): Promise<
  { doc: Yaml; template: Yaml; container: Yaml }
> {
  const doc = parseYaml(await Deno.readTextFile(MANIFEST));
  const template = doc.spec.template;
  return { doc, template, container: template.spec.containers[0] };
}

/** Kubernetes' schema (npm's kubernetes-models, run by node): "" when valid. */
async function schemaErrors(doc: Yaml): Promise<string> {
  const script =
    'import { Deployment } from "kubernetes-models/apps/v1/Deployment";\n' +
    'let text = ""; for await (const chunk of process.stdin) text += chunk;\n' +
    "try { new Deployment(JSON.parse(text)).validate(); }\n" +
    "catch (e) { console.log(e.message); process.exit(1); }\n";
  const child = new Deno.Command("node", {
    args: ["--input-type=module", "-e", script],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(doc)));
  await w.close();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
  return out.code === 0 ? "" : text.trim() || `node exited ${out.code}`;
}

/** One break of each control, and the control that must catch it. */
const BREAKS: [
  (typeof RESTRICTED_CONTROLS)[number],
  (t: Yaml, c: Yaml) => void,
][] = [
  [
    "HostProcess",
    (_, c) => c.securityContext.windowsOptions = { hostProcess: true },
  ],
  ["Host Namespaces", (t) => t.spec.hostPID = true],
  ["Privileged Containers", (_, c) => c.securityContext.privileged = true],
  ["Capabilities", (_, c) => c.securityContext.capabilities.drop = []],
  ["Capabilities", (_, c) => c.securityContext.capabilities.add = ["CHOWN"]],
  [
    "HostPath Volumes",
    (t) => t.spec.volumes[1] = { name: "tmp", hostPath: { path: "/tmp" } },
  ],
  ["Host Ports", (_, c) => c.ports[0].hostPort = 8080],
  [
    "AppArmor",
    (_, c) => c.securityContext.appArmorProfile = { type: "Unconfined" },
  ],
  ["SELinux", (_, c) => c.securityContext.seLinuxOptions = { type: "spc_t" }],
  ["/proc Mount Type", (_, c) => c.securityContext.procMount = "Unmasked"],
  ["Seccomp", (t) => delete t.spec.securityContext.seccompProfile],
  [
    "Seccomp",
    (_, c) => c.securityContext.seccompProfile = { type: "Unconfined" },
  ],
  [
    "Sysctls",
    (t) =>
      t.spec.securityContext.sysctls = [{ name: "kernel.msgmax", value: "1" }],
  ],
  [
    "Volume Types",
    (t) => t.spec.volumes[1] = { name: "tmp", nfs: { server: "x", path: "/" } },
  ],
  [
    "Privilege Escalation",
    (_, c) => delete c.securityContext.allowPrivilegeEscalation,
  ],
  ["Running as Non-root", (t) => delete t.spec.securityContext.runAsNonRoot],
  ["Running as Non-root", (_, c) => c.securityContext.runAsNonRoot = false],
  ["Running as Non-root user", (t) => t.spec.securityContext.runAsUser = 0],
];

Deno.test("examples/kubernetes-restricted.yaml is a valid Deployment that passes every control of the restricted Pod Security Standard", async () => {
  const { doc, template, container } = await manifest();
  assert.equal(await schemaErrors(doc), "");
  assert.deepEqual(restrictedViolations(template), []);
  // The fields the README names, spelled out.
  const pod = template.spec.securityContext;
  assert.equal(pod.runAsNonRoot, true);
  assert.ok(Number.isInteger(pod.runAsUser) && pod.runAsUser > 0);
  assert.equal(pod.seccompProfile.type, "RuntimeDefault");
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"]);
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  // The check bites: a break of each control is caught, by that control.
  const caught = new Set<string>();
  for (const [control, breakIt] of BREAKS) {
    const t = structuredClone(template);
    breakIt(t, t.spec.containers[0]);
    const found = restrictedViolations(t).map((v) => v.control);
    assert.ok(found.includes(control), `${control}: ${breakIt} not caught`);
    caught.add(control);
  }
  assert.deepEqual([...caught].sort(), [...RESTRICTED_CONTROLS].sort());
});

let built: Promise<void> | undefined;

/** Builds examples/app on IMAGE once per run. */
function buildApp(): Promise<void> {
  built ??= (async () => {
    const old = await engine([
      "image",
      "inspect",
      "--format",
      "{{.Id}}",
      APP_IMAGE,
    ]);
    await engineOk([
      "build",
      "-q",
      ...(ENGINE === "podman" ? ["--format", "docker", "--pull=never"] : []),
      // install_clean in the Dockerfile needs the distribution's mirror.
      "--network=host",
      "--build-arg",
      `BASE_IMAGE=${IMAGE}`,
      "-t",
      APP_IMAGE,
      `${ROOT}examples/app`,
    ], { timeoutMs: 600_000 });
    const now = await engineOk([
      "image",
      "inspect",
      "--format",
      "{{.Id}}",
      APP_IMAGE,
    ]);
    if (old.code === 0 && old.stdout.trim() !== now.trim()) {
      await retireImage(old.stdout.trim());
    }
  })();
  return built;
}

/** The engine flags that match the file's pod and container. */
function engineFlags(
  template: Yaml,
  container: Yaml,
  emptyDirs: string[],
): string[] {
  const pod = template.spec.securityContext;
  const sc = container.securityContext;
  const flags = ["--user", `${pod.runAsUser}:${pod.runAsGroup}`];
  if (sc.readOnlyRootFilesystem) {
    flags.push("--read-only");
    // podman's --read-only adds tmpfs mounts of its own: only the file's.
    if (ENGINE === "podman") flags.push("--read-only-tmpfs=false");
  }
  // An emptyDir is a fresh directory of mode 0777, on the node's disk or
  // (medium: Memory) a tmpfs: a host directory of that mode, bind-mounted.
  // Not the engines' --tmpfs PATH:mode=0777: runc gives a tmpfs mounted
  // over a directory of the image that directory's mode (0755 for /run;
  // measured with podman 4.3).
  for (const [i, m] of container.volumeMounts.entries()) {
    flags.push("-v", `${emptyDirs[i]}:${m.mountPath}`);
  }
  for (const cap of sc.capabilities.drop) flags.push("--cap-drop", cap);
  if (sc.allowPrivilegeEscalation === false) {
    flags.push("--security-opt", "no-new-privileges");
  }
  // seccompProfile RuntimeDefault: the engine's default profile, no flag.
  for (const e of container.env) flags.push("-e", `${e.name}=${e.value}`);
  return flags;
}

async function page(c: Container): Promise<string> {
  const r = await c.exec([
    "busybox",
    "wget",
    "-q",
    "-O",
    "-",
    "http://127.0.0.1:8080/cgi-bin/hello",
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

Deno.test("examples/kubernetes-restricted.yaml: the app boots with the matching engine flags in non-root mode, its probes pass, and a stop within the grace period exits 0", async () => {
  const { template, container } = await manifest();
  await buildApp();
  const uid = template.spec.securityContext.runAsUser;
  const dirs = await Promise.all(
    container.volumeMounts.map(() => tempDir()),
  );
  try {
    await boot(template, container, dirs.map((d) => d.path), uid);
  } finally {
    for (const d of dirs) await d.cleanup();
  }
});

async function boot(
  template: Yaml,
  container: Yaml,
  emptyDirs: string[],
  uid: number,
): Promise<void> {
  await withContainer("example-restricted", [
    "--network=none",
    ...engineFlags(template, container, emptyDirs),
    APP_IMAGE,
  ], async (c) => {
    const startup = container.startupProbe;
    const ok = await waitFor(
      async () => (await c.exec(startup.exec.command)).code === 0,
      startup.periodSeconds * startup.failureThreshold * 1000,
      startup.periodSeconds * 1000,
    );
    assert.ok(ok, (await c.exec(startup.exec.command)).stdout + await c.logs());
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      const r = await c.exec(probe.exec.command);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^ok: web: run$/m);
    }
    assert.match(
      await page(c),
      /^Hello from Kubernetes \(container started at \d{4}-/,
    );
    // The emptyDir on /run is writable: the state is where the image's
    // links lead (the dump, the service's supervise), so a shell that is
    // not a login shell and plain `sv NAME` find them.
    const links = await c.sh(
      'id -u; . /etc/container_environment.sh && echo "$GREETING"; sv status web',
    );
    assert.match(
      links.stdout,
      new RegExp(
        `^${uid}\\nHello from Kubernetes\\nrun: web: \\(pid \\d+\\) \\d+s`,
      ),
      links.stdout + links.stderr,
    );
    const logs = await c.logs();
    assert.match(
      logs,
      new RegExp(
        `^\\*\\*\\* Non-root mode: running as uid ${uid} .*; state in /run; `,
        "m",
      ),
    );
    assert.doesNotMatch(logs, /fatal|failed with status/i, logs);

    const grace = template.spec.terminationGracePeriodSeconds;
    const started = Date.now();
    const stop = await engine(["stop", "-t", String(grace), c.name], {
      timeoutMs: (grace + 20) * 1000,
    });
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(await c.wait(), 0, await c.logs());
    assert.ok(
      Date.now() - started < grace * 1000,
      "the stop used the whole grace period",
    );
  });
}
