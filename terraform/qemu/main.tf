# The QEMU lab: N hosts, each a QEMU VM (TCG software emulation, no KVM needed) booting a stock
# Debian kernel, which has the soft-dirty tracking CRIU's pre-dumps need (the controller's own
# kernel may not). Each VM's root is the controller's root over 9p (read-only, under a tmpfs
# overlay), so the guest runs the controller's criu, runc, rsync, haproxy and sshd unchanged; its
# /var/lib/ferry is its own (tmpfs in the guest, as 9p cannot hold CRIU's unix sockets); a tap puts
# it on the lab bridge. Built with terraform_data and local-exec only, so it applies offline.
# Run scripts/qemu-setup.sh first (kernel + initramfs in the cache).
# Outputs have the same shape for every environment (local, qemu, aws, gcp): Ferry renders
# the Ansible inventory and its SSH settings from them. The contract: terraform/CONTRACT.md.

terraform {
  required_version = ">= 1.5"
}

variable "hosts" {
  description = "Host names, one VM each."
  type        = list(string)
  default     = ["lab-1", "lab-2"]
  validation {
    condition     = alltrue([for h in var.hosts : can(regex("^[a-z][a-z0-9-]{0,30}$", h))])
    error_message = "Host names must match ^[a-z][a-z0-9-]{0,30}$."
  }
}

variable "lab_dir" {
  description = "Controller-side directory holding the lab's keys and each host's state."
  type        = string
}

variable "bridge" {
  description = "Name of the Linux bridge in the controller's namespace."
  type        = string
  default     = "ferry0"
}

variable "subnet_prefix" {
  description = "First three octets of the lab's /24; the controller is .1, hosts start at .11."
  type        = string
  default     = "10.247.0"
}

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
  subnet  = "${var.subnet_prefix}.0/24"
  gateway = "${var.subnet_prefix}.1"
  script  = abspath("${path.module}/qemu-lab.sh")
  # A new kernel from qemu-setup.sh, or a changed guest init, boots fresh VMs.
  boot_inputs = sha256(join("\n", [
    try(file("${var.cache_dir}/current.env"), "no-kernel"),
    filesha256("${path.module}/guest-init.sh"),
    filesha256("${path.module}/../lib/sshd.sh"),
  ]))
  hosts = { for i, h in var.hosts : h => {
    name    = h
    address = "${var.subnet_prefix}.${11 + i}"
  } }
}

resource "terraform_data" "bridge" {
  # terraform_data only runs provisioners on create: every input must force a replacement.
  triggers_replace = [var.bridge, local.subnet, local.gateway, local.script]
  input            = { bridge = var.bridge, subnet = local.subnet, script = local.script }

  provisioner "local-exec" {
    command = "${local.script} bridge-up ${var.bridge} ${local.gateway}/24 ${local.subnet}"
  }
  provisioner "local-exec" {
    when    = destroy
    command = "${self.output.script} bridge-down ${self.output.bridge} ${self.output.subnet}"
  }
}

resource "terraform_data" "host" {
  for_each = local.hosts
  triggers_replace = [each.value.name, each.value.address, var.bridge, var.lab_dir, var.memory_mb, var.cache_dir,
  local.boot_inputs, terraform_data.bridge.id]
  input = { name = each.value.name, lab_dir = var.lab_dir, script = local.script }

  provisioner "local-exec" {
    command = "${local.script} host-up ${each.value.name} ${each.value.address}/24 ${var.bridge} ${var.lab_dir} ${var.memory_mb} ${var.boot_timeout_s} ${var.cache_dir}"
  }
  provisioner "local-exec" {
    when    = destroy
    command = "${self.output.script} host-down ${self.output.name} ${self.output.lab_dir}"
  }
}

output "environment" {
  value = "qemu"
}

output "controller_address" {
  value = local.gateway
}

output "hosts" {
  description = "One entry per host: how Ferry reaches it and where its host key is."
  value = [for h in var.hosts : {
    name          = h
    address       = local.hosts[h].address
    port          = 22
    user          = "root"
    host_key_file = "${var.lab_dir}/hosts/${h}/etc-ssh/ssh_host_ed25519_key.pub"
    provider      = "qemu"
    cloud         = "qemu"
    peer_address  = local.hosts[h].address
    id            = terraform_data.host[h].id
    console_log   = "${var.lab_dir}/hosts/${h}/log/console.log"
  }]
}

output "kernel" {
  description = "The guests' kernel release (from scripts/qemu-setup.sh)."
  value       = try(regex("KVER=([^\n]+)", file("${var.cache_dir}/current.env"))[0], "unknown")
}
