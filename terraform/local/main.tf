# The namespace lab: N emulated hosts on one bridge (or on two, as two clouds: var.clouds), built with Terraform's built-in
# terraform_data and local-exec only, so it applies offline in about a second.
# Outputs have the same shape for every environment (local, qemu, aws, gcp): Ferry renders
# the Ansible inventory and its SSH settings from them. The contract: terraform/CONTRACT.md.
# Shared with terraform/qemu through symlinks into terraform/lib: lab-variables.tf, the inputs both
# labs take (hosts, lab_dir, bridge, subnet_prefix, clouds, link); lab-network.tf, the sites, each
# host's address, the bridges and a two-cloud lab's WAN; lab-outputs.tf, the outputs. Here: the hosts.

locals {
  lab_provider = "local"
  script       = "${path.module}/lab.sh"
  # Nothing in the hosts output beyond the contract's fields and `id`.
  host_extra = { for h in local.host_order : h => {} }
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
