# The QEMU lab: N hosts, each a QEMU VM (TCG software emulation, no KVM needed) booting a stock
# Debian kernel, which has the soft-dirty tracking CRIU's pre-dumps need (the controller's own
# kernel may not). Each VM's root is the controller's root over 9p (read-only, under a tmpfs
# overlay), so the guest runs the controller's criu, runc, rsync, haproxy and sshd unchanged; its
# /var/lib/ferry is its own (tmpfs in the guest, as 9p cannot hold CRIU's unix sockets); a tap puts
# it on the lab bridge (or on one of two, as two clouds joined by WireGuard: var.clouds). Built
# with terraform_data and local-exec only, so it applies offline.
# Run scripts/qemu-setup.sh first (kernel + initramfs in the cache).
# Outputs have the same shape for every environment (local, qemu, aws, gcp): Ferry renders
# the Ansible inventory and its SSH settings from them. The contract: terraform/CONTRACT.md.
# Shared with terraform/local through symlinks into terraform/lib: lab-variables.tf, the inputs both
# labs take (hosts, lab_dir, bridge, subnet_prefix, clouds, link); lab-network.tf, the sites, each
# host's address, the bridges and a two-cloud lab's WAN (namespaces on the controller, as in the
# namespace lab); lab-outputs.tf, the outputs. Here: the QEMU lab's own inputs, its VMs, and its
# own output (kernel).

variable "memory_mb" {
  description = "Memory of each VM, MiB (the guest also keeps its root overlay's writes in it)."
  type        = number
  default     = 1536
  validation {
    condition     = var.memory_mb >= 256 && var.memory_mb <= 65536
    error_message = "memory_mb must be between 256 and 65536."
  }
}

variable "boot_timeout_s" {
  description = "How long one VM may take from QEMU's start to its sshd answering."
  type        = number
  default     = 120
}

variable "cache_dir" {
  description = "Where scripts/qemu-setup.sh put the kernel and initramfs (its current.env)."
  type        = string
  default     = "/var/cache/ferry/qemu"
}

locals {
  lab_provider = "qemu"
  script       = abspath("${path.module}/qemu-lab.sh")
  # Each VM's entry in the hosts output also names its serial console's log.
  host_extra = { for h in local.host_order : h => { console_log = "${var.lab_dir}/hosts/${h}/log/console.log" } }
  # A new kernel from qemu-setup.sh, or a changed guest init, boots fresh VMs.
  boot_inputs = sha256(join("\n", [
    try(file("${var.cache_dir}/current.env"), "no-kernel"),
    filesha256("${path.module}/guest-init.sh"),
    filesha256("${path.module}/../lib/sshd.sh"),
  ]))
}

# The flat lab had one bridge (lab-network.tf) before two-cloud labs existed: its state moves, nothing
# is rebuilt.
moved {
  from = terraform_data.bridge
  to   = terraform_data.bridge["qemu"]
}

resource "terraform_data" "host" {
  for_each = local.hosts
  triggers_replace = concat(
    [each.value.name, each.value.address, local.sites[each.value.cloud].bridge, var.lab_dir, var.memory_mb, var.cache_dir,
    local.boot_inputs, terraform_data.bridge[each.value.cloud].id],
    local.two_clouds ? [local.sites[each.value.cloud].route] : [],
  )
  input = { name = each.value.name, lab_dir = var.lab_dir, script = local.script }

  provisioner "local-exec" {
    command = "${local.script} host-up ${each.value.name} ${each.value.address}/24 ${local.sites[each.value.cloud].bridge} ${var.lab_dir} ${var.memory_mb} ${var.boot_timeout_s} ${var.cache_dir} ${local.sites[each.value.cloud].route}"
  }
  provisioner "local-exec" {
    when    = destroy
    command = "${self.output.script} host-down ${self.output.name} ${self.output.lab_dir}"
  }
}

output "kernel" {
  description = "The guests' kernel release (from scripts/qemu-setup.sh)."
  value       = try(regex("KVER=([^\n]+)", file("${var.cache_dir}/current.env"))[0], "unknown")
}
