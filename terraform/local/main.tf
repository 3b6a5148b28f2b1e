# The namespace lab: N emulated hosts on one bridge (or on two, as two clouds: var.clouds), built with Terraform's built-in
# terraform_data and local-exec only, so it applies offline in about a second.
# Outputs have the same shape for every environment (local, qemu, aws, gcp): Ferry renders
# the Ansible inventory and its SSH settings from them. The contract: terraform/CONTRACT.md.
# The inputs both labs take (hosts, lab_dir, bridge, subnet_prefix, clouds, link) are in
# lab-variables.tf, a symlink to terraform/lib/lab-variables.tf shared with terraform/qemu.

locals {
  script     = "${path.module}/lab.sh"
  wan_script = abspath("${path.module}/../lib/wan.sh")
  two_clouds = var.clouds != null
  clouds     = local.two_clouds ? var.clouds : [{ name = "local", bridge = var.bridge, subnet_prefix = var.subnet_prefix, hosts = var.hosts }]
  sites = { for i, c in local.clouds : c.name => {
    bridge     = c.bridge
    subnet     = "${c.subnet_prefix}.0/24"
    controller = "${c.subnet_prefix}.1"
    # A two-cloud host's route: the other cloud's /24 through this cloud's gateway (lab.sh's ROUTE).
    route = local.two_clouds ? "${local.clouds[1 - i].subnet_prefix}.0/24,${c.subnet_prefix}.254" : ""
  } }
  hosts = merge([for c in local.clouds : { for i, h in c.hosts : h => {
    name    = h
    cloud   = c.name
    address = "${c.subnet_prefix}.${11 + i}"
  } }]...)
  host_order = flatten([for c in local.clouds : c.hosts])
}

# The flat lab had one bridge before two-cloud labs existed: its state moves, nothing is rebuilt.
moved {
  from = terraform_data.bridge
  to   = terraform_data.bridge["local"]
}

resource "terraform_data" "bridge" {
  for_each = local.sites
  # terraform_data only runs provisioners on create: every input must force a replacement.
  triggers_replace = [each.value.bridge, each.value.subnet, each.value.controller, local.script]
  input            = { bridge = each.value.bridge, subnet = each.value.subnet, script = abspath(local.script) }

  provisioner "local-exec" {
    command = "${abspath(local.script)} bridge-up ${each.value.bridge} ${each.value.controller}/24 ${each.value.subnet}"
  }
  provisioner "local-exec" {
    when    = destroy
    command = "${self.output.script} bridge-down ${self.output.bridge} ${self.output.subnet}"
  }
}

resource "terraform_data" "host" {
  for_each = local.hosts
  triggers_replace = concat(
    [each.value.name, each.value.address, local.sites[each.value.cloud].bridge, var.lab_dir, terraform_data.bridge[each.value.cloud].id],
    local.two_clouds ? [local.sites[each.value.cloud].route] : [],
  )
  input = { name = each.value.name, lab_dir = var.lab_dir, script = abspath(local.script) }

  provisioner "local-exec" {
    command = "${abspath(local.script)} host-up ${each.value.name} ${each.value.address}/24 ${local.sites[each.value.cloud].bridge} ${var.lab_dir} ${local.sites[each.value.cloud].route}"
  }
  provisioner "local-exec" {
    when    = destroy
    command = "${self.output.script} host-down ${self.output.name} ${self.output.lab_dir}"
  }
}

# A two-cloud lab's gateways, WireGuard tunnel and WAN (terraform/lib/wan.sh). A new link profile
# replaces only this: the hosts and their containers stay.
resource "terraform_data" "wan" {
  count = local.two_clouds ? 1 : 0
  triggers_replace = [local.wan_script, var.lab_dir, var.link, [for c in local.clouds : [c.name, c.bridge, c.subnet_prefix]],
  [for name, b in terraform_data.bridge : b.id]]
  input = { script = local.wan_script, lab_dir = var.lab_dir, clouds = join(" ", [for c in local.clouds : c.name]) }

  provisioner "local-exec" {
    command = "${local.wan_script} up ${var.lab_dir} ${var.link.rtt_ms} ${var.link.mbit} ${var.link.loss_pct} ${join(" ", flatten([for c in local.clouds : [c.name, c.bridge, c.subnet_prefix]]))}"
  }
  provisioner "local-exec" {
    when    = destroy
    command = "${self.output.script} down ${self.output.lab_dir} ${self.output.clouds}"
  }
}

output "environment" {
  value = "local"
}

output "controller_address" {
  description = "The controller's address on the first cloud's bridge; each host's own controller_address wins."
  value       = local.sites[local.clouds[0].name].controller
}

output "hosts" {
  description = "One entry per host: how Ferry reaches it and where its host key is."
  value = [for h in local.host_order : {
    name          = h
    address       = local.hosts[h].address
    port          = 22
    user          = "root"
    host_key_file = "${var.lab_dir}/hosts/${h}/etc-ssh/ssh_host_ed25519_key.pub"
    provider      = "local"
    cloud         = local.hosts[h].cloud
    # The controller is on every cloud's bridge, and SSH reaches each host there directly; between
    # clouds the hosts' own addresses are routed through the tunnel, so peers use them too.
    peer_address       = local.hosts[h].address
    controller_address = local.sites[local.hosts[h].cloud].controller
    id                 = terraform_data.host[h].id
  }]
}
