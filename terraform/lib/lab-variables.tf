# The inputs both lab modules take, declared once: terraform/local and terraform/qemu each hold a
# relative symlink to this file (Terraform has no include for variables, and reads a symlinked .tf
# like its own). Ferry sets them the same way for either lab (src/infra/providers/TerraformLab.ts).

terraform {
  required_version = ">= 1.5"
}

variable "hosts" {
  description = "Host names, one host each (the flat lab; a two-cloud lab names its hosts in var.clouds)."
  type        = list(string)
  default     = ["lab-1", "lab-2"]
  validation {
    condition     = alltrue([for h in var.hosts : can(regex("^[a-z][a-z0-9-]{0,30}$", h))])
    error_message = "Host names must match ^[a-z][a-z0-9-]{0,30}$."
  }
}

variable "lab_dir" {
  description = "Controller-side directory holding the lab's keys and each host's state."
  type        = string
}

variable "bridge" {
  description = "Name of the Linux bridge in the controller's namespace."
  type        = string
  default     = "ferry0"
}

variable "subnet_prefix" {
  description = "First three octets of the lab's /24; the controller is .1, hosts start at .11."
  type        = string
  default     = "10.247.0"
}

variable "clouds" {
  description = <<-EOT
    A two-cloud lab: two sites, each with its own bridge and /24 (the controller .1, the gateway
    .254, hosts from .11), whose hosts reach the other site only through a WireGuard tunnel between
    the two gateways, over a WAN shaped as var.link (terraform/lib/wan.sh). null: the flat lab,
    var.hosts on var.bridge.
  EOT
  type = list(object({
    name          = string
    bridge        = string
    subnet_prefix = string
    hosts         = list(string)
  }))
  default = null
  validation {
    condition = var.clouds == null ? true : (length(var.clouds) == 2 && alltrue([for c in var.clouds :
      can(regex("^[a-z][a-z0-9-]{0,10}$", c.name)) && can(regex("^[a-z][a-z0-9-]{0,14}$", c.bridge)) &&
      can(regex("^[0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}$", c.subnet_prefix)) && length(c.hosts) > 0 &&
    alltrue([for h in c.hosts : can(regex("^[a-z][a-z0-9-]{0,30}$", h))])]))
    error_message = "clouds: two sites, names ^[a-z][a-z0-9-]{0,10}$, bridges of at most 15 characters, three-octet prefixes, at least one host each."
  }
}

variable "link" {
  description = "The WAN between a two-cloud lab's gateways: round trip in ms and loss in % each way (the relay), rate in Mbit/s each way (HTB; 0 for none)."
  type = object({
    rtt_ms   = number
    mbit     = number
    loss_pct = number
  })
  default = { rtt_ms = 0, mbit = 0, loss_pct = 0 }
  validation {
    condition     = var.link.rtt_ms >= 0 && var.link.rtt_ms <= 10000 && var.link.mbit >= 0 && var.link.loss_pct >= 0 && var.link.loss_pct < 100
    error_message = "link: rtt_ms 0-10000, mbit >= 0 (0: no limit), loss_pct 0 to below 100."
  }
}
