# What every cloud root module (terraform/aws, terraform/gcp, terraform/two-clouds) has alike,
# written once; each holds a relative symlink to this file (Terraform has no include, and reads a
# symlinked .tf like its own): the inputs about the controller and what every host opens, and the
# outputs of terraform/CONTRACT.md that come straight from inputs. Each module declares its own
# `environment` input (its default is the module's name).

variable "service_port" {
  description = "TCP port of the migrated service, open to the internet in every cloud of the environment."
  type        = number
  default     = 80
}

variable "ssh_source_cidrs" {
  description = "Addresses allowed to SSH (the controller's)."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "ssh_public_key" {
  description = "The controller's SSH public key, authorised for root on every host."
  type        = string
}

variable "host_key_dir" {
  description = "Controller directory with <host>/ssh_host_ed25519_key[.pub] for every host, generated before apply."
  type        = string
}

variable "controller_address" {
  description = "Where the hosts reach the controller (its hold server), if they can; null otherwise."
  type        = string
  default     = null
}

output "environment" {
  value = var.environment
}

output "controller_address" {
  value = var.controller_address
}
