# The sshd configuration of every lab host, shared by terraform/local/lab.sh and
# terraform/qemu/guest-init.sh (sourced).
#   lab_sshd_config ADDRESS HOST_KEY PID_FILE   (PID_FILE may be 'none')
# Root by key only; room for a migration's parallel sessions (engine commands, rsync, the
# link's ControlMaster) without sshd dropping new connections.
lab_sshd_config() {
  cat <<CFG
ListenAddress $1
Port 22
HostKey $2
PidFile $3
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AuthorizedKeysFile /root/.ssh/authorized_keys
Subsystem sftp internal-sftp
MaxSessions 64
MaxStartups 64:30:128
ClientAliveInterval 15
ClientAliveCountMax 4
AcceptEnv LANG LC_*
CFG
}
