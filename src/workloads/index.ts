/**
 * Containers from anywhere (issue 13, items 1 and 2): an image archive, an OCI layout, a bundle or a
 * rootfs becomes a Ferry container; what CRIU cannot move is refused with its reason.
 *
 *   prepareContainer(input, options, workDir)  on the controller: config.json + what to copy
 *   assertNameFree(name, listedContainers)     no host runs that name yet
 *   deployContainer(host, spec, upload)        copy, start with runc, wait until healthy
 *   removeDeployed(host, name)                 `ferry rm`
 *   preflightContainer(host, name, {config})   what CRIU cannot dump, and the dump's size
 */
export { buildFerryConfig, CRIU_CONFIG_ANNOTATION, DEFAULT_CRIU_CONFIG } from './ferry-config.ts';
export type { ContainerOptions, ContainerSource, FerryContainerSpec, HealthSource } from './ferry-config.ts';
export { prepareContainer } from './prepare.ts';
export type { BundleUpload, ContainerInput, PreparedContainer } from './prepare.ts';
export { importImage, detectImageFormat } from './image.ts';
export type { ImageFormat, ImportedImage, ImportImageOptions } from './image.ts';
export { assertMovable, assertNameFree, findRefusals } from './refusals.ts';
export type { ListedContainer, Refusal } from './refusals.ts';
export { mergeEnv, parseEnvAssignment, parseMemorySize, parsePort } from './options.ts';
export { copyToHost, deployContainer, hostFiles, removeDeployed } from './deploy.ts';
export type { DeployOptions, DeployResult, RemoveOptions } from './deploy.ts';
export { execHealthArgv, probeExec } from './health-exec.ts';
export { assertDiskFor, assertDumpable, diskNeeded, estimateDump, findDumpBlockers } from './preflight.ts';
export type { DiskNeedOptions, DumpEstimate, TreeSnapshot } from './preflight.ts';
export { containerPids, preflightContainer, readProcessTree } from './preflight-read.ts';
export type { ContainerPreflight, ExecHost } from './preflight-read.ts';
export type { ImageConfig, OciSpec } from './oci.ts';
