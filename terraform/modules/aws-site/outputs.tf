output "hosts" {
  description = "The site's hosts, in the shape of terraform/CONTRACT.md."
  value = [for h in var.hosts : {
    name = h
    # The gateway's auto-assigned address goes away when its Elastic IP is associated.
    address       = h == local.gateway ? aws_eip.gateway.public_ip : aws_instance.host[h].public_ip
    port          = 22
    user          = "root"
    host_key_file = abspath("${local.key_path[h]}.pub")
    provider      = "aws"
    cloud         = var.cloud
    peer_address  = aws_instance.host[h].private_ip
    instance_id   = aws_instance.host[h].id
  }]
  depends_on = [aws_eip_association.gateway]
}

output "gateway_public_ip" {
  description = "The gateway's static public address: the other site's WireGuard endpoint."
  value       = aws_eip.gateway.public_ip
}

output "subnet_cidr" {
  description = "The hosts' subnet: the other site routes it through its tunnel."
  value       = var.subnet_cidr
}
