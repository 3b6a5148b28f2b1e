# This module's own inputs. Shared through symlinks into terraform/lib: cloud-env.tf (the controller's
# key, address and SSH sources, the service port; with terraform/aws and terraform/two-clouds) and
# one-site-env.tf (the tunnel's inputs; with terraform/aws).

variable "environment" {
  description = "The environment's name (the `environment` output; prefixes resource names)."
  type        = string
  default     = "gcp"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}$", var.environment))
    error_message = "environment must match ^[a-z][a-z0-9-]{0,30}$."
  }
}

variable "project" {
  description = "Google Cloud project. Default: the provider's (GOOGLE_PROJECT)."
  type        = string
  default     = null
}

variable "region" {
  description = "Region of the subnet and the gateway's address."
  type        = string
  default     = "us-central1"
}

variable "zone" {
  description = "Zone of the hosts."
  type        = string
  default     = "us-central1-a"
}

variable "cloud" {
  description = "The hosts' `cloud` in Ferry's host list."
  type        = string
  default     = "gcp"
}

variable "hosts" {
  description = "Host names, one Debian 12 VM each; the first is the WireGuard gateway."
  type        = list(string)
  default     = ["gcp-1"]
}

variable "machine_type" {
  description = "Compute Engine machine type. Default: the paper's n1-standard-1."
  type        = string
  default     = "n1-standard-1"
}

variable "image" {
  description = "Boot image of the hosts."
  type        = string
  default     = "debian-cloud/debian-12"
}

variable "subnet_cidr" {
  description = "The hosts' subnet (routed through the tunnel by the other cloud)."
  type        = string
  default     = "10.30.1.0/24"
}
