# This module's own inputs. Shared through symlinks into terraform/lib: cloud-env.tf (the controller's
# key, address and SSH sources, the service port; with terraform/gcp and terraform/two-clouds) and
# one-site-env.tf (the tunnel's inputs; with terraform/gcp).

variable "environment" {
  description = "The environment's name (the `environment` output; prefixes resource names)."
  type        = string
  default     = "aws"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}$", var.environment))
    error_message = "environment must match ^[a-z][a-z0-9-]{0,30}$."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "us-east-1"
}

variable "cloud" {
  description = "The hosts' `cloud` in Ferry's host list."
  type        = string
  default     = "aws"
}

variable "hosts" {
  description = "Host names, one Debian 12 instance each; the first is the WireGuard gateway."
  type        = list(string)
  default     = ["aws-1"]
}

variable "instance_type" {
  description = "EC2 instance type. Default: the paper's t3.medium."
  type        = string
  default     = "t3.medium"
}

variable "ami_id" {
  description = "AMI of the hosts. Default: the newest Debian 12 amd64 AMI published by Debian."
  type        = string
  default     = null
}

variable "availability_zone" {
  description = "Availability zone of the hosts' subnet. Default: AWS picks one."
  type        = string
  default     = null
}

variable "vpc_cidr" {
  description = "The VPC."
  type        = string
  default     = "10.20.0.0/16"
}

variable "subnet_cidr" {
  description = "The hosts' subnet (routed through the tunnel by the other cloud)."
  type        = string
  default     = "10.20.1.0/24"
}

variable "offline_plan" {
  description = "Skip the provider's credential, account, metadata and region checks: for `terraform plan` with fake credentials and no network (CI). Never needed for a real apply."
  type        = bool
  default     = false
}
