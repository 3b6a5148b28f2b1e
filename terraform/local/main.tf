# The namespace lab: N emulated hosts on one bridge, built with Terraform's built-in
# terraform_data and local-exec only, so it applies offline in about a second.
# Outputs have the same shape for every environment (local, qemu, aws, gcp): Ferry renders
# the Ansible inventory and its SSH settings from them. The contract: terraform/CONTRACT.md.

terraform {
  required_version = ">= 1.5"
}

variable "hosts" {
  description = "Host names, one emulated host each."
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

locals {
  subnet  = "${var.subnet_prefix}.0/24"
  gateway = "${var.subnet_prefix}.1"
  script  = "${path.module}/lab.sh"
  hosts = { for i, h in var.hosts : h => {
    name    = h
    address = "${var.subnet_prefix}.${11 + i}"
  } }
}

resource "terraform_data" "bridge" {
  # terraform_data only runs provisioners on create: every input must force a replacement.
  triggers_replace = [var.bridge, local.subnet, local.gateway, local.script]
  input            = { bridge = var.bridge, subnet = local.subnet, script = abspath(local.script) }

  provisioner "local-exec" {
    command = "${abspath(local.script)} bridge-up ${var.bridge} ${local.gateway}/24 ${local.subnet}"
  }
  provisioner "local-exec" {
    when    = destroy
    command = "${self.output.script} bridge-down ${self.output.bridge} ${self.output.subnet}"
  }
}

resource "terraform_data" "host" {
  for_each         = local.hosts
  triggers_replace = [each.value.name, each.value.address, var.bridge, var.lab_dir, terraform_data.bridge.id]
  input            = { name = each.value.name, lab_dir = var.lab_dir, script = abspath(local.script) }

  provisioner "local-exec" {
    command = "${abspath(local.script)} host-up ${each.value.name} ${each.value.address}/24 ${var.bridge} ${var.lab_dir}"
  }
  provisioner "local-exec" {
    when    = destroy
    command = "${self.output.script} host-down ${self.output.name} ${self.output.lab_dir}"
  }
}

output "environment" {
  value = "local"
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
    provider      = "local"
    cloud         = "local"
    peer_address  = local.hosts[h].address
    id            = terraform_data.host[h].id
  }]
}
