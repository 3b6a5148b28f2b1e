# The outputs of both lab modules (terraform/CONTRACT.md), written once: terraform/local and
# terraform/qemu each hold a relative symlink to this file. It reads lab-network.tf's sites and
# hosts, and from the module's main.tf local.lab_provider, terraform_data.host (for `id`) and
# local.host_extra (each host's fields beyond the contract's, such as a VM's console log).

output "environment" {
  value = local.lab_provider
}

output "controller_address" {
  description = "The controller's address on the first cloud's bridge; each host's own controller_address wins."
  value       = local.sites[local.clouds[0].name].controller
}

output "hosts" {
  description = "One entry per host: how Ferry reaches it and where its host key is."
  value = [for h in local.host_order : merge({
    name          = h
    address       = local.hosts[h].address
    port          = 22
    user          = "root"
    host_key_file = "${var.lab_dir}/hosts/${h}/etc-ssh/ssh_host_ed25519_key.pub"
    provider      = local.lab_provider
    cloud         = local.hosts[h].cloud
    # The controller is on every cloud's bridge, and SSH reaches each host (namespace or VM) there
    # directly; between clouds the hosts' own addresses are routed through the tunnel, so peers use
    # them too.
    peer_address       = local.hosts[h].address
    controller_address = local.sites[local.hosts[h].cloud].controller
    id                 = terraform_data.host[h].id
  }, local.host_extra[h])]
}
