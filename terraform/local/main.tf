# The namespace lab: N emulated hosts on one bridge (or on two, as two clouds: var.clouds), built with Terraform's built-in
# terraform_data and local-exec only, so it applies offline in about a second.
# Outputs have the same shape for every environment (local, qemu, aws, gcp): Ferry renders
# the Ansible inventory and its SSH settings from them. The contract: terraform/CONTRACT.md.
# Shared with terraform/qemu through symlinks into terraform/lib: lab-variables.tf, the inputs both
# labs take (hosts, lab_dir, bridge, subnet_prefix, clouds, link), and lab-network.tf, the sites,
# each host's address, the bridges and a two-cloud lab's WAN. Here: the hosts, and the outputs.

locals {
  flat_cloud = "local"
  script     = "${path.module}/lab.sh"
}

# The flat lab had one bridge (lab-network.tf) before two-cloud labs existed: its state moves, nothing
# is rebuilt.
moved {
  from = terraform_data.bridge
  to   = terraform_data.bridge["local"]
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
