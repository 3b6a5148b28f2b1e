# The network both lab modules build, written once: terraform/local and terraform/qemu each hold a
# relative symlink to this file (Terraform reads a symlinked .tf as the module's own, so path.module,
# resource addresses and state stay the module's). From lab-variables.tf's inputs: the sites (the
# flat lab's one, or two clouds), each host's cloud and address, a bridge per site, and a two-cloud
# lab's WAN. The module's main.tf sets two locals this file reads:
#   lab_provider  "local" or "qemu": the hosts' `provider`, the environment's name, and the name
#                 of the flat lab's one site (terraform/CONTRACT.md)
#   script        its plumbing script, whose bridge-up and bridge-down this file calls
# and builds its hosts (terraform_data.host, each on its site's terraform_data.bridge); the outputs
# are lab-outputs.tf's.

locals {
  wan_script = abspath("${path.module}/../lib/wan.sh")
  two_clouds = var.clouds != null
  clouds     = local.two_clouds ? var.clouds : [{ name = local.lab_provider, bridge = var.bridge, subnet_prefix = var.subnet_prefix, hosts = var.hosts }]
  sites = { for i, c in local.clouds : c.name => {
    bridge     = c.bridge
    subnet     = "${c.subnet_prefix}.0/24"
    controller = "${c.subnet_prefix}.1"
    # A two-cloud host's route: the other cloud's /24 through this cloud's gateway (the lab script's ROUTE).
    route = local.two_clouds ? "${local.clouds[1 - i].subnet_prefix}.0/24,${c.subnet_prefix}.254" : ""
  } }
  hosts = merge([for c in local.clouds : { for i, h in c.hosts : h => {
    name    = h
    cloud   = c.name
    address = "${c.subnet_prefix}.${11 + i}"
  } }]...)
  host_order = flatten([for c in local.clouds : c.hosts])
}

resource "terraform_data" "bridge" {
  for_each = local.sites
  # terraform_data only runs provisioners on create: every input must force a replacement.
  # local.script stands here as each module gives it (terraform/local's is relative): made absolute
  # here, it would change the triggers of every existing lab and rebuild it.
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

# A two-cloud lab's gateways, WireGuard tunnel and WAN: namespaces on the controller, for either lab
# (terraform/lib/wan.sh). A new link profile replaces only this: the hosts (namespaces or VMs) and
# their containers stay.
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
