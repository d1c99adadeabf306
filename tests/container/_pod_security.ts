/**
 * Kubernetes' Pod Security Standards, "restricted" profile, as a check of a
 * pod template: every control of the profile (it includes the "baseline"
 * ones), with the fields and allowed values the standard lists
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/,
 * Kubernetes v1.25 and later). Used by kubernetes_restricted_test.ts on
 * examples/kubernetes-restricted.yaml; no cluster runs here, so this is
 * what stands in for the Pod Security admission controller.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
type Yaml = any;

/** Volume types the restricted profile allows. */
const ALLOWED_VOLUMES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);

/** Sysctls the baseline profile allows ("safe" ones). */
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);

/** SELinux types the baseline profile allows. */
const SELINUX_TYPES = new Set([
  "",
  "container_t",
  "container_init_t",
  "container_kvm_t",
  "container_engine_t",
]);

/** The controls of the restricted profile, by the standard's names. */
export const RESTRICTED_CONTROLS = [
  "HostProcess",
  "Host Namespaces",
  "Privileged Containers",
  "Capabilities",
  "HostPath Volumes",
  "Host Ports",
  "AppArmor",
  "SELinux",
  "/proc Mount Type",
  "Seccomp",
  "Sysctls",
  "Volume Types",
  "Privilege Escalation",
  "Running as Non-root",
  "Running as Non-root user",
] as const;

/** One field of a pod template that breaks a control. */
export interface Violation {
  control: (typeof RESTRICTED_CONTROLS)[number];
  field: string;
}

/**
 * The violations of the restricted profile in a pod template (`metadata`
 * and `spec` of a Deployment's `spec.template`); empty when it passes.
 */
export function restrictedViolations(template: Yaml): Violation[] {
  const out: Violation[] = [];
  const bad = (control: Violation["control"], field: string) =>
    out.push({ control, field });
  const spec = template.spec ?? {};
  const podSc = spec.securityContext ?? {};
  const annotations: Record<string, string> = template.metadata?.annotations ??
    {};
  const containers: [string, Yaml][] = [
    "containers",
    "initContainers",
    "ephemeralContainers",
  ].flatMap((kind) =>
    (spec[kind] ?? []).map((
      c: Yaml,
      i: number,
    ) => [`spec.${kind}[${i}]`, c] as [string, Yaml])
  );

  if (podSc.windowsOptions?.hostProcess === true) {
    bad("HostProcess", "spec.securityContext.windowsOptions.hostProcess");
  }
  for (const ns of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (spec[ns] === true) bad("Host Namespaces", `spec.${ns}`);
  }
  for (const [i, v] of (spec.volumes ?? []).entries()) {
    if (v.hostPath !== undefined) {
      bad("HostPath Volumes", `spec.volumes[${i}].hostPath`);
    }
    const types = Object.keys(v).filter((k) => k !== "name");
    if (types.some((t) => !ALLOWED_VOLUMES.has(t))) {
      bad("Volume Types", `spec.volumes[${i}]`);
    }
  }
  for (const [i, s] of (podSc.sysctls ?? []).entries()) {
    if (!SAFE_SYSCTLS.has(s.name)) {
      bad("Sysctls", `spec.securityContext.sysctls[${i}].name`);
    }
  }
  for (const [key, value] of Object.entries(annotations)) {
    if (
      key.startsWith("container.apparmor.security.beta.kubernetes.io/") &&
      value !== "runtime/default" && !value.startsWith("localhost/")
    ) bad("AppArmor", `metadata.annotations["${key}"]`);
  }
  const appArmor = (sc: Yaml, at: string) => {
    const type = sc.appArmorProfile?.type;
    if (
      type !== undefined && type !== "RuntimeDefault" && type !== "Localhost"
    ) {
      bad("AppArmor", `${at}.appArmorProfile.type`);
    }
  };
  const seLinux = (sc: Yaml, at: string) => {
    const o = sc.seLinuxOptions;
    if (o === undefined) return;
    if (!SELINUX_TYPES.has(o.type ?? "")) {
      bad("SELinux", `${at}.seLinuxOptions.type`);
    }
    if (o.user) bad("SELinux", `${at}.seLinuxOptions.user`);
    if (o.role) bad("SELinux", `${at}.seLinuxOptions.role`);
  };
  const seccompOk = (type: string | undefined) =>
    type === "RuntimeDefault" || type === "Localhost";
  appArmor(podSc, "spec.securityContext");
  seLinux(podSc, "spec.securityContext");
  if (podSc.runAsUser === 0) {
    bad("Running as Non-root user", "spec.securityContext.runAsUser");
  }
  const podSeccomp = podSc.seccompProfile?.type;
  if (podSeccomp !== undefined && !seccompOk(podSeccomp)) {
    bad("Seccomp", "spec.securityContext.seccompProfile.type");
  }

  for (const [at, c] of containers) {
    const sc = c.securityContext ?? {};
    const scAt = `${at}.securityContext`;
    if (sc.windowsOptions?.hostProcess === true) {
      bad("HostProcess", `${scAt}.windowsOptions.hostProcess`);
    }
    if (sc.privileged === true) {
      bad("Privileged Containers", `${scAt}.privileged`);
    }
    const caps = sc.capabilities ?? {};
    if (!(caps.drop ?? []).includes("ALL")) {
      bad("Capabilities", `${scAt}.capabilities.drop`);
    }
    if ((caps.add ?? []).some((cap: string) => cap !== "NET_BIND_SERVICE")) {
      bad("Capabilities", `${scAt}.capabilities.add`);
    }
    for (const [j, p] of (c.ports ?? []).entries()) {
      if (p.hostPort !== undefined && p.hostPort !== 0) {
        bad("Host Ports", `${at}.ports[${j}].hostPort`);
      }
    }
    appArmor(sc, scAt);
    seLinux(sc, scAt);
    if (sc.procMount !== undefined && sc.procMount !== "Default") {
      bad("/proc Mount Type", `${scAt}.procMount`);
    }
    const seccomp = sc.seccompProfile?.type;
    if (
      seccomp !== undefined ? !seccompOk(seccomp) : podSeccomp === undefined
    ) bad("Seccomp", `${scAt}.seccompProfile.type`);
    if (sc.allowPrivilegeEscalation !== false) {
      bad("Privilege Escalation", `${scAt}.allowPrivilegeEscalation`);
    }
    const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    if (sc.runAsNonRoot === false || nonRoot !== true) {
      bad("Running as Non-root", `${scAt}.runAsNonRoot`);
    }
    if (sc.runAsUser === 0) {
      bad("Running as Non-root user", `${scAt}.runAsUser`);
    }
  }
  return out;
}
