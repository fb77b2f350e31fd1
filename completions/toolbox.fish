# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_toolbox_global_optspecs
    string join \n kubeconfig= context= n/namespace= as= as-group= config= v/verbose h/help V/version
end

function __fish_toolbox_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_toolbox_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_toolbox_using_subcommand
    set -l cmd (__fish_toolbox_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c toolbox -n "__fish_toolbox_needs_command" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_needs_command" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_needs_command" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_needs_command" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_needs_command" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_needs_command" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolbox -n "__fish_toolbox_needs_command" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_needs_command" -f -a "node-shell" -d 'Open a root shell on a node (nsenter into the host\'s namespaces)'
complete -c toolbox -n "__fish_toolbox_needs_command" -f -a "debug-node" -d 'Debug a node with kubectl\'s debug-node pod, deleted when the session ends'
complete -c toolbox -n "__fish_toolbox_needs_command" -f -a "logs" -d 'Read a node\'s service journals and log files, without a root shell'
complete -c toolbox -n "__fish_toolbox_needs_command" -f -a "compare" -d 'Compare node-shell and debug-node on this cluster, node and namespace'
complete -c toolbox -n "__fish_toolbox_needs_command" -f -a "cleanup" -d 'Find and delete the node-debug pods that toolbox and other tools left behind'
complete -c toolbox -n "__fish_toolbox_needs_command" -f -a "policy" -d 'Print RBAC and admission policies that bound node access, for kubectl apply -f -'
complete -c toolbox -n "__fish_toolbox_needs_command" -f -a "cp" -d 'Copy files and directories between a node and this machine, sha256-checked'
complete -c toolbox -n "__fish_toolbox_needs_command" -f -a "dump" -d 'Collect a diagnostic bundle from many nodes: logs, dmesg, runtime, disk, config'
complete -c toolbox -n "__fish_toolbox_needs_command" -f -a "sessions" -d 'Find, read and replay recorded sessions'
complete -c toolbox -n "__fish_toolbox_needs_command" -f -a "config" -d 'Show the effective settings and where each value came from'
complete -c toolbox -n "__fish_toolbox_needs_command" -f -a "completion" -d 'Print a shell completion script'
complete -c toolbox -n "__fish_toolbox_needs_command" -f -a "version" -d 'Show the version of toolbox and of the cluster\'s API server'
complete -c toolbox -n "__fish_toolbox_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -s l -l selector -d 'Nodes matching this label selector: with --all, every one; else choose among them (the only match is used as is)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l fanout -d 'How many nodes run at once [default: 64]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l os -d 'Run only on nodes of this OS; any runs on every OS [default: linux]' -r -f -a "linux\t''
windows\t''
any\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l command-timeout -d 'Give up on a node whose command runs longer than this' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -s o -l output -d 'Print one document with every node\'s output and exit status at the end' -r -f -a "json\t''
yaml\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l contexts -d 'Every kubeconfig context whose name matches this glob (*, ?, [a-z]), each its own cluster; or repeat --context NAME' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l image -d 'The image; it needs nsenter and sleep [default: the image setting, toolbox\'s node-tools]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l pod -d 'Open the session on this pod\'s node, in its container\'s namespaces: NS/POD, or POD in the namespace of -n' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -s c -l container -d 'With --pod: the container [default: the pod\'s kubectl.kubernetes.io/default-container, or its first]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l enter -d 'With --pod: the container\'s namespaces to enter, from net, pid, mnt, ipc and uts, or all; the others stay the node\'s' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l ttl -d 'How long the pod may live; it stops by itself after this [default: 1h]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l timeout -d 'How long to wait for the pod to start [default: 2m]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l reason -d 'Why you need the node; recorded on the pod for the audit trail' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l image-pull-secret -d 'A Secret to pull the image with (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l image-pull-policy -d 'When to pull the image' -r -f -a "Always\t''
IfNotPresent\t''
Never\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l priority-class -d 'The pod\'s PriorityClass, e.g. system-node-critical for a node at its pod limit' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l persist -d 'Keep the pod for your next session on this node with the same image and flags, until it has been idle this long (never past --ttl); 0 ends it after this session' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l all -d 'Run COMMAND on every node (with -l, every matching node)'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l include-not-ready -d 'Run on NotReady nodes too, instead of skipping them'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l include-cordoned -d 'Run on cordoned (unschedulable) nodes too, instead of skipping them'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l no-back-off -d 'Keep --fanout\'s width even while the API server pushes back: only to compare with the default, which sends fewer at once (docs/fan-out.md)'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -s b -l gather -d 'At the end, print identical outputs once, under the nodes that gave them'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l no-stream -d 'Run the command as each pod\'s own process and read its output from the pod\'s status: no stream per node (the default with --gather and -o)'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l stream -d 'Stream each node\'s output through an exec, even with --gather or -o'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l all-contexts -d 'Every context of the kubeconfig, each its own cluster'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l no-mount -d 'Do not enter the host\'s mount namespace'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l no-uts -d 'Do not enter the host\'s UTS namespace (hostname)'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l no-ipc -d 'Do not enter the host\'s IPC namespace, and do not share it with the pod'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l no-net -d 'Do not enter the host\'s network namespace, and do not share it with the pod'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l no-pid -d 'Do not enter the host\'s PID namespace, and do not share it with the pod'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -s x -l host-mount -d 'Mount the host\'s / at /host and run the shell in the container, without nsenter'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l keep -d 'Leave the pod running after the session, and print how to reach and remove it'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l no-record -d 'Do not record the session (where the namespace\'s policy allows it)'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -l record-input -d 'Record what is typed too; by default only the output is, so that a password typed at a prompt stays out'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -s h -l help -d 'Print help'
complete -c toolbox -n "__fish_toolbox_using_subcommand node-shell" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -s l -l selector -d 'Nodes matching this label selector: with --all, every one; else choose among them (the only match is used as is)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l fanout -d 'How many nodes run at once [default: 64]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l os -d 'Run only on nodes of this OS; any runs on every OS [default: linux]' -r -f -a "linux\t''
windows\t''
any\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l command-timeout -d 'Give up on a node whose command runs longer than this' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -s o -l output -d 'Print one document with every node\'s output and exit status at the end' -r -f -a "json\t''
yaml\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l contexts -d 'Every kubeconfig context whose name matches this glob (*, ?, [a-z]), each its own cluster; or repeat --context NAME' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l image -d 'The debug container\'s image [default: the debug_image setting, busybox]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l profile -d 'The privileges the debug container gets, as kubectl\'s debug profiles [default: the debug_profile setting, general]' -r -f -a "legacy\t''
general\t''
baseline\t''
restricted\t''
netadmin\t''
sysadmin\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l env -d 'Environment variables to set in the container: NAME=VALUE (repeatable; A=1,B=2 sets two, as in kubectl)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -s c -l container -d 'The debug container\'s name' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l custom -d 'A partial container spec (JSON or YAML) merged onto the profile\'s container, as kubectl\'s --custom' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l ttl -d 'How long the pod may live; it stops by itself after this [default: 1h]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l timeout -d 'How long to wait for the pod to start [default: 2m]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l reason -d 'Why you need the node; recorded on the pod for the audit trail' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l image-pull-secret -d 'A Secret to pull the image with (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l image-pull-policy -d 'When to pull the image' -r -f -a "Always\t''
IfNotPresent\t''
Never\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l priority-class -d 'The pod\'s PriorityClass, e.g. system-node-critical for a node at its pod limit' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l persist -d 'Keep the pod for your next session on this node with the same image and flags, until it has been idle this long (never past --ttl); 0 ends it after this session' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l all -d 'Run COMMAND on every node (with -l, every matching node)'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l include-not-ready -d 'Run on NotReady nodes too, instead of skipping them'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l include-cordoned -d 'Run on cordoned (unschedulable) nodes too, instead of skipping them'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l no-back-off -d 'Keep --fanout\'s width even while the API server pushes back: only to compare with the default, which sends fewer at once (docs/fan-out.md)'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -s b -l gather -d 'At the end, print identical outputs once, under the nodes that gave them'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l no-stream -d 'Run the command as each pod\'s own process and read its output from the pod\'s status: no stream per node (the default with --gather and -o)'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l stream -d 'Stream each node\'s output through an exec, even with --gather or -o'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l all-contexts -d 'Every context of the kubeconfig, each its own cluster'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -s q -l quiet -d 'Do not print the "Creating debugging pod" line'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l chroot -d 'Run the shell or COMMAND chrooted into the node\'s / (mounted at /host)'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l keep -d 'Leave the pod running after the session, and print how to reach and remove it'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l no-record -d 'Do not record the session (where the namespace\'s policy allows it)'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -l record-input -d 'Record what is typed too; by default only the output is, so that a password typed at a prompt stays out'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -s h -l help -d 'Print help'
complete -c toolbox -n "__fish_toolbox_using_subcommand debug-node" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -s l -l selector -d 'Nodes matching this label selector (with --all); every argument is then a log' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l fanout -d 'How many nodes run at once [default: 64]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l os -d 'Run only on nodes of this OS; any runs on every OS [default: linux]' -r -f -a "linux\t''
windows\t''
any\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l command-timeout -d 'Give up on a node whose command runs longer than this' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -s o -l output -d 'Print one document with every node\'s output and exit status at the end' -r -f -a "json\t''
yaml\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l since -d 'Only lines since then: a duration ago (1h, 30m) or a time (RFC 3339, or YYYY-MM-DD HH:MM:SS in UTC)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l until -d 'Only lines until then: a duration ago or a time, as --since' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l tail -d 'Only the last N lines (at most 100000) [with -f: 10]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l grep -d 'Only lines that match this regular expression (RE2; case-insensitive when all lower-case, as journalctl\'s)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l boot -d 'Only this boot\'s journal: 0 the current, -1 the one before, ...' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l image -d 'Its image; it needs busybox\'s sh, cat, tail and nsenter [default: the image setting, toolbox\'s node-tools]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l ttl -d 'How long the pod may live; it stops by itself after this [default: 1h]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l timeout -d 'How long to wait for the pod to start [default: 2m]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l reason -d 'Why you need the node; recorded on the pod for the audit trail' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l image-pull-secret -d 'A Secret to pull the image with (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l image-pull-policy -d 'When to pull the image' -r -f -a "Always\t''
IfNotPresent\t''
Never\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l priority-class -d 'The pod\'s PriorityClass, e.g. system-node-critical for a node at its pod limit' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l all -d 'Every node (with -l, every matching node); every argument is then a log'
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l include-not-ready -d 'Run on NotReady nodes too, instead of skipping them'
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l include-cordoned -d 'Run on cordoned (unschedulable) nodes too, instead of skipping them'
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l no-back-off -d 'Keep --fanout\'s width even while the API server pushes back: only to compare with the default, which sends fewer at once (docs/fan-out.md)'
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -s b -l gather -d 'At the end, print identical outputs once, under the nodes that gave them'
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -s f -l follow -d 'Follow the log as it grows, until Ctrl-C (one log per node)'
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -l no-record -d 'Do not record its session (where the namespace\'s policy allows it)'
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolbox -n "__fish_toolbox_using_subcommand logs" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand compare" -s l -l selector -d 'Choose among the nodes that match this label selector (the only match is used as is)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand compare" -l image -d 'The image of both pods [default: the image and debug_image settings]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand compare" -l profile -d 'debug-node\'s profile [default: the debug_profile setting, general]' -r -f -a "legacy\t''
general\t''
baseline\t''
restricted\t''
netadmin\t''
sysadmin\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand compare" -s o -l output -d 'Output format: the comparison as tables, or all of it as JSON or YAML' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand compare" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand compare" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand compare" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand compare" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand compare" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand compare" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand compare" -l diff -d 'Print a unified diff of the two pods\' YAML, and nothing else'
complete -c toolbox -n "__fish_toolbox_using_subcommand compare" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand compare" -s h -l help -d 'Print help'
complete -c toolbox -n "__fish_toolbox_using_subcommand compare" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -l node -d 'Only pods on this node (NAME or node/NAME)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -l tool -d 'Only the pods of this tool (repeatable)' -r -f -a "toolbox\t''
kubectl-debug\t''
node-shell\t''
k9s\t''
lens\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -l older-than -d 'Only pods at least this old, e.g. 30m or 2h' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -s o -l output -d 'Output format: a table, or what was found and done as JSON or YAML' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -l contexts -d 'Every kubeconfig context whose name matches this glob (*, ?, [a-z]), each its own cluster; or repeat --context NAME' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -s A -l all-namespaces -d 'Look in all namespaces, even when -n is given (the default without -n)'
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -l finished -d 'Only pods whose containers have ended (phase Succeeded or Failed)'
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -s y -l yes -d 'Delete everything listed without asking'
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -l dry-run -d 'List what would be deleted, and delete nothing'
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -l all-contexts -d 'Every context of the kubeconfig, each its own cluster'
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -s h -l help -d 'Print help'
complete -c toolbox -n "__fish_toolbox_using_subcommand cleanup" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -l group -d 'The group allowed node access through the namespace' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -l max-ttl -d 'The longest lifetime a node-access pod may ask for [default: 2h, or --default-ttl if longer]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -l default-ttl -d 'The lifetime given to a node-access pod that asks for none (kubectl debug\'s) [default: 1h, or --max-ttl if shorter]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -l cleanup-group -d 'A group allowed to find and delete leftover node-debug pods in every namespace' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -l recorder-image -d 'The image whose recorder the pods must carry [default: the recorder_image setting]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -l kube-version -d 'The Kubernetes release to print for, e.g. 1.35 (default: ask the cluster)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -s o -l output -d 'Output format' -r -f -a "yaml\t''
json\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -l require-recording -d 'Require every session in the namespace to be recorded: exec only through the recorder, no attach, and node-access pods that carry it (refuses kubectl debug node/, kubectl-node-shell and toolbox --no-record there)'
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -l audit-policy -d 'Print only the API server\'s audit Policy for node sessions'
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -s h -l help -d 'Print help'
complete -c toolbox -n "__fish_toolbox_using_subcommand policy" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -l image -d 'The pod\'s image; it needs sleep [default: the image setting, toolbox\'s node-tools]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -l ttl -d 'How long the pod may live; it stops by itself after this [default: 1h]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -l timeout -d 'How long to wait for the pod to start [default: 2m]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -l reason -d 'Why you need the node; recorded on the pod for the audit trail' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -l image-pull-secret -d 'A Secret to pull the image with (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -l image-pull-policy -d 'When to pull the image' -r -f -a "Always\t''
IfNotPresent\t''
Never\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -l priority-class -d 'The pod\'s PriorityClass, e.g. system-node-critical for a node at its pod limit' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -s f -l force -d 'Overwrite files and merge into directories that exist'
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -s T -l no-target-directory -d 'DEST is the name to write, never a directory to copy into'
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -s h -l help -d 'Print help'
complete -c toolbox -n "__fish_toolbox_using_subcommand cp" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -s l -l selector -d 'Every node matching this label selector' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -s o -l output -d 'Where to write the bundle: a new directory, or FILE.tar.gz [default: a new toolbox-dump-TIMESTAMP directory here]' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l since -d 'The services\' logs from this long ago on, e.g. 30m or 24h' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l spec -d 'What to collect, in YAML or JSON, instead of the built-in list (docs/dump.md)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l max-per-node -d 'The most read from one node; an item cut there is named in the index' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l max-total -d 'The most read from all nodes together' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l image -d 'The pods\' image; it needs busybox\'s applets and nsenter [default: the image setting]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l ttl -d 'How long the pod may live; it stops by itself after this [default: 1h]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l timeout -d 'How long to wait for the pod to start [default: 2m]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l reason -d 'Why you need the node; recorded on the pod for the audit trail' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l image-pull-secret -d 'A Secret to pull the image with (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l image-pull-policy -d 'When to pull the image' -r -f -a "Always\t''
IfNotPresent\t''
Never\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l priority-class -d 'The pod\'s PriorityClass, e.g. system-node-critical for a node at its pod limit' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l fanout -d 'How many nodes run at once [default: 64]' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l os -d 'Run only on nodes of this OS; any runs on every OS [default: linux]' -r -f -a "linux\t''
windows\t''
any\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l command-timeout -d 'Give up on a node whose command runs longer than this' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l all -d 'Every node (with -l, every matching node)'
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l pod-logs -d 'Collect the contents of the pods\' logs under /var/log/pods, not only their listing'
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l include-not-ready -d 'Run on NotReady nodes too, instead of skipping them'
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l include-cordoned -d 'Run on cordoned (unschedulable) nodes too, instead of skipping them'
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -l no-back-off -d 'Keep --fanout\'s width even while the API server pushes back: only to compare with the default, which sends fewer at once (docs/fan-out.md)'
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -s h -l help -d 'Print help'
complete -c toolbox -n "__fish_toolbox_using_subcommand dump" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and not __fish_seen_subcommand_from list get play help" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and not __fish_seen_subcommand_from list get play help" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and not __fish_seen_subcommand_from list get play help" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and not __fish_seen_subcommand_from list get play help" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and not __fish_seen_subcommand_from list get play help" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and not __fish_seen_subcommand_from list get play help" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and not __fish_seen_subcommand_from list get play help" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and not __fish_seen_subcommand_from list get play help" -s h -l help -d 'Print help'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and not __fish_seen_subcommand_from list get play help" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and not __fish_seen_subcommand_from list get play help" -f -a "list" -d 'List recorded sessions: live ones, and with NODE those kept on the node'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and not __fish_seen_subcommand_from list get play help" -f -a "get" -d 'Print one session\'s recording: asciicast, JSON, or plain text for grep'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and not __fish_seen_subcommand_from list get play help" -f -a "play" -d 'Replay one session in the terminal, with its timing'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and not __fish_seen_subcommand_from list get play help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -l since -d 'Only sessions that started within this long, e.g. 30m or 24h' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -l user -d 'Only the sessions of this user (the recording\'s requested-by)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -l contexts -d 'Every kubeconfig context whose name matches this glob (*, ?, [a-z]), each its own cluster; or repeat --context NAME' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -s A -l all-namespaces -d 'Live pods in all namespaces, even when -n is given'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -l all-contexts -d 'Every context of the kubeconfig, each its own cluster'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from get" -s o -l output -d 'cast: asciicast v2, as asciinema plays it; json: the header, events and whether it is truncated, as one document; text: the output with escape sequences removed' -r -f -a "cast\t''
json\t''
text\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from get" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from get" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from get" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from get" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from get" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from get" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from get" -s A -l all-namespaces -d 'Look for the live pod in all namespaces, even when -n is given'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from get" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from get" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from play" -l speed -d 'Play this many times faster (0.5 is half speed)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from play" -l idle-limit -d 'Shorten every pause longer than this many seconds to it' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from play" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from play" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from play" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from play" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from play" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from play" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from play" -s A -l all-namespaces -d 'Look for the live pod in all namespaces, even when -n is given'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from play" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from play" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from play" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "list" -d 'List recorded sessions: live ones, and with NODE those kept on the node'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "get" -d 'Print one session\'s recording: asciicast, JSON, or plain text for grep'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "play" -d 'Replay one session in the terminal, with its timing'
complete -c toolbox -n "__fish_toolbox_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolbox -n "__fish_toolbox_using_subcommand config" -s o -l output -d 'Output format' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand config" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand config" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand config" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand config" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand config" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand config" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand config" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand config" -s h -l help -d 'Print help'
complete -c toolbox -n "__fish_toolbox_using_subcommand config" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand completion" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand completion" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand completion" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand completion" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand completion" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand completion" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand completion" -s h -l help -d 'Print help'
complete -c toolbox -n "__fish_toolbox_using_subcommand completion" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand version" -s o -l output -d 'Output format; kubectl\'s clientVersion and serverVersion' -r -f -a "json\t''
yaml\t''"
complete -c toolbox -n "__fish_toolbox_using_subcommand version" -l kubeconfig -d 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand version" -l context -d 'The kubeconfig context to use' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand version" -s n -l namespace -d 'The namespace toolbox creates its pods in' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand version" -l as -d 'Username to impersonate for the operation' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand version" -l as-group -d 'Group to impersonate for the operation (repeatable)' -r
complete -c toolbox -n "__fish_toolbox_using_subcommand version" -l config -d 'toolbox\'s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)' -r -F
complete -c toolbox -n "__fish_toolbox_using_subcommand version" -s v -l verbose -d 'More output on stderr: -v for details, -vv for debugging'
complete -c toolbox -n "__fish_toolbox_using_subcommand version" -s h -l help -d 'Print help'
complete -c toolbox -n "__fish_toolbox_using_subcommand version" -s V -l version -d 'Print version'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and not __fish_seen_subcommand_from node-shell debug-node logs compare cleanup policy cp dump sessions config completion version help" -f -a "node-shell" -d 'Open a root shell on a node (nsenter into the host\'s namespaces)'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and not __fish_seen_subcommand_from node-shell debug-node logs compare cleanup policy cp dump sessions config completion version help" -f -a "debug-node" -d 'Debug a node with kubectl\'s debug-node pod, deleted when the session ends'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and not __fish_seen_subcommand_from node-shell debug-node logs compare cleanup policy cp dump sessions config completion version help" -f -a "logs" -d 'Read a node\'s service journals and log files, without a root shell'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and not __fish_seen_subcommand_from node-shell debug-node logs compare cleanup policy cp dump sessions config completion version help" -f -a "compare" -d 'Compare node-shell and debug-node on this cluster, node and namespace'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and not __fish_seen_subcommand_from node-shell debug-node logs compare cleanup policy cp dump sessions config completion version help" -f -a "cleanup" -d 'Find and delete the node-debug pods that toolbox and other tools left behind'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and not __fish_seen_subcommand_from node-shell debug-node logs compare cleanup policy cp dump sessions config completion version help" -f -a "policy" -d 'Print RBAC and admission policies that bound node access, for kubectl apply -f -'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and not __fish_seen_subcommand_from node-shell debug-node logs compare cleanup policy cp dump sessions config completion version help" -f -a "cp" -d 'Copy files and directories between a node and this machine, sha256-checked'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and not __fish_seen_subcommand_from node-shell debug-node logs compare cleanup policy cp dump sessions config completion version help" -f -a "dump" -d 'Collect a diagnostic bundle from many nodes: logs, dmesg, runtime, disk, config'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and not __fish_seen_subcommand_from node-shell debug-node logs compare cleanup policy cp dump sessions config completion version help" -f -a "sessions" -d 'Find, read and replay recorded sessions'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and not __fish_seen_subcommand_from node-shell debug-node logs compare cleanup policy cp dump sessions config completion version help" -f -a "config" -d 'Show the effective settings and where each value came from'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and not __fish_seen_subcommand_from node-shell debug-node logs compare cleanup policy cp dump sessions config completion version help" -f -a "completion" -d 'Print a shell completion script'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and not __fish_seen_subcommand_from node-shell debug-node logs compare cleanup policy cp dump sessions config completion version help" -f -a "version" -d 'Show the version of toolbox and of the cluster\'s API server'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and not __fish_seen_subcommand_from node-shell debug-node logs compare cleanup policy cp dump sessions config completion version help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and __fish_seen_subcommand_from sessions" -f -a "list" -d 'List recorded sessions: live ones, and with NODE those kept on the node'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and __fish_seen_subcommand_from sessions" -f -a "get" -d 'Print one session\'s recording: asciicast, JSON, or plain text for grep'
complete -c toolbox -n "__fish_toolbox_using_subcommand help; and __fish_seen_subcommand_from sessions" -f -a "play" -d 'Replay one session in the terminal, with its timing'
