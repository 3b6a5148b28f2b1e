output "hosts" {
  description = "The site's hosts, in the shape of terraform/CONTRACT.md."
  value = [for h in var.hosts : {
    name          = h
    address       = google_compute_instance.host[h].network_interface[0].access_config[0].nat_ip
    port          = 22
    user          = "root"
    host_key_file = abspath("${local.key_path[h]}.pub")
    provider      = "gcp"
    cloud         = var.cloud
    peer_address  = google_compute_instance.host[h].network_interface[0].network_ip
    instance_id   = google_compute_instance.host[h].instance_id
  }]
}

output "gateway_public_ip" {
  description = "The gateway's static external address: the other site's WireGuard endpoint."
  value       = google_compute_address.gateway.address
}

output "subnet_cidr" {
  description = "The hosts' subnet: the other site routes it through its tunnel."
  value       = var.subnet_cidr
}
