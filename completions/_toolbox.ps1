
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'toolbox' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'toolbox'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'toolbox' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('node-shell', 'node-shell', [CompletionResultType]::ParameterValue, 'Open a root shell on a node (nsenter into the host''s namespaces)')
            [CompletionResult]::new('debug-node', 'debug-node', [CompletionResultType]::ParameterValue, 'Debug a node with kubectl''s debug-node pod, deleted when the session ends')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Read a node''s service journals and log files, without a root shell')
            [CompletionResult]::new('compare', 'compare', [CompletionResultType]::ParameterValue, 'Compare node-shell and debug-node on this cluster, node and namespace')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Find and delete the node-debug pods that toolbox and other tools left behind')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Print RBAC and admission policies that bound node access, for kubectl apply -f -')
            [CompletionResult]::new('cp', 'cp', [CompletionResultType]::ParameterValue, 'Copy files and directories between a node and this machine, sha256-checked')
            [CompletionResult]::new('dump', 'dump', [CompletionResultType]::ParameterValue, 'Collect a diagnostic bundle from many nodes: logs, dmesg, runtime, disk, config')
            [CompletionResult]::new('sessions', 'sessions', [CompletionResultType]::ParameterValue, 'Find, read and replay recorded sessions')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show the effective settings and where each value came from')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Show the version of toolbox and of the cluster''s API server')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'toolbox;node-shell' {
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Nodes matching this label selector: with --all, every one; else choose among them (the only match is used as is)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Nodes matching this label selector: with --all, every one; else choose among them (the only match is used as is)')
            [CompletionResult]::new('--fanout', '--fanout', [CompletionResultType]::ParameterName, 'How many nodes run at once [default: 64]')
            [CompletionResult]::new('--os', '--os', [CompletionResultType]::ParameterName, 'Run only on nodes of this OS; any runs on every OS [default: linux]')
            [CompletionResult]::new('--command-timeout', '--command-timeout', [CompletionResultType]::ParameterName, 'Give up on a node whose command runs longer than this')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Print one document with every node''s output and exit status at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Print one document with every node''s output and exit status at the end')
            [CompletionResult]::new('--contexts', '--contexts', [CompletionResultType]::ParameterName, 'Every kubeconfig context whose name matches this glob (*, ?, [a-z]), each its own cluster; or repeat --context NAME')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'The image; it needs nsenter and sleep [default: the image setting, toolbox''s node-tools]')
            [CompletionResult]::new('--pod', '--pod', [CompletionResultType]::ParameterName, 'Open the session on this pod''s node, in its container''s namespaces: NS/POD, or POD in the namespace of -n')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'With --pod: the container [default: the pod''s kubectl.kubernetes.io/default-container, or its first]')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'With --pod: the container [default: the pod''s kubectl.kubernetes.io/default-container, or its first]')
            [CompletionResult]::new('--enter', '--enter', [CompletionResultType]::ParameterName, 'With --pod: the container''s namespaces to enter, from net, pid, mnt, ipc and uts, or all; the others stay the node''s')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'How long the pod may live; it stops by itself after this [default: 1h]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the pod to start [default: 2m]')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why you need the node; recorded on the pod for the audit trail')
            [CompletionResult]::new('--image-pull-secret', '--image-pull-secret', [CompletionResultType]::ParameterName, 'A Secret to pull the image with (repeatable)')
            [CompletionResult]::new('--image-pull-policy', '--image-pull-policy', [CompletionResultType]::ParameterName, 'When to pull the image')
            [CompletionResult]::new('--priority-class', '--priority-class', [CompletionResultType]::ParameterName, 'The pod''s PriorityClass, e.g. system-node-critical for a node at its pod limit')
            [CompletionResult]::new('--persist', '--persist', [CompletionResultType]::ParameterName, 'Keep the pod for your next session on this node with the same image and flags, until it has been idle this long (never past --ttl); 0 ends it after this session')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Run COMMAND on every node (with -l, every matching node)')
            [CompletionResult]::new('--include-not-ready', '--include-not-ready', [CompletionResultType]::ParameterName, 'Run on NotReady nodes too, instead of skipping them')
            [CompletionResult]::new('--include-cordoned', '--include-cordoned', [CompletionResultType]::ParameterName, 'Run on cordoned (unschedulable) nodes too, instead of skipping them')
            [CompletionResult]::new('--no-back-off', '--no-back-off', [CompletionResultType]::ParameterName, 'Keep --fanout''s width even while the API server pushes back: only to compare with the default, which sends fewer at once (docs/fan-out.md)')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'At the end, print identical outputs once, under the nodes that gave them')
            [CompletionResult]::new('--gather', '--gather', [CompletionResultType]::ParameterName, 'At the end, print identical outputs once, under the nodes that gave them')
            [CompletionResult]::new('--no-stream', '--no-stream', [CompletionResultType]::ParameterName, 'Run the command as each pod''s own process and read its output from the pod''s status: no stream per node (the default with --gather and -o)')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'Stream each node''s output through an exec, even with --gather or -o')
            [CompletionResult]::new('--all-contexts', '--all-contexts', [CompletionResultType]::ParameterName, 'Every context of the kubeconfig, each its own cluster')
            [CompletionResult]::new('--no-mount', '--no-mount', [CompletionResultType]::ParameterName, 'Do not enter the host''s mount namespace')
            [CompletionResult]::new('--no-uts', '--no-uts', [CompletionResultType]::ParameterName, 'Do not enter the host''s UTS namespace (hostname)')
            [CompletionResult]::new('--no-ipc', '--no-ipc', [CompletionResultType]::ParameterName, 'Do not enter the host''s IPC namespace, and do not share it with the pod')
            [CompletionResult]::new('--no-net', '--no-net', [CompletionResultType]::ParameterName, 'Do not enter the host''s network namespace, and do not share it with the pod')
            [CompletionResult]::new('--no-pid', '--no-pid', [CompletionResultType]::ParameterName, 'Do not enter the host''s PID namespace, and do not share it with the pod')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'Mount the host''s / at /host and run the shell in the container, without nsenter')
            [CompletionResult]::new('--host-mount', '--host-mount', [CompletionResultType]::ParameterName, 'Mount the host''s / at /host and run the shell in the container, without nsenter')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Leave the pod running after the session, and print how to reach and remove it')
            [CompletionResult]::new('--no-record', '--no-record', [CompletionResultType]::ParameterName, 'Do not record the session (where the namespace''s policy allows it)')
            [CompletionResult]::new('--record-input', '--record-input', [CompletionResultType]::ParameterName, 'Record what is typed too; by default only the output is, so that a password typed at a prompt stays out')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'toolbox;debug-node' {
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Nodes matching this label selector: with --all, every one; else choose among them (the only match is used as is)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Nodes matching this label selector: with --all, every one; else choose among them (the only match is used as is)')
            [CompletionResult]::new('--fanout', '--fanout', [CompletionResultType]::ParameterName, 'How many nodes run at once [default: 64]')
            [CompletionResult]::new('--os', '--os', [CompletionResultType]::ParameterName, 'Run only on nodes of this OS; any runs on every OS [default: linux]')
            [CompletionResult]::new('--command-timeout', '--command-timeout', [CompletionResultType]::ParameterName, 'Give up on a node whose command runs longer than this')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Print one document with every node''s output and exit status at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Print one document with every node''s output and exit status at the end')
            [CompletionResult]::new('--contexts', '--contexts', [CompletionResultType]::ParameterName, 'Every kubeconfig context whose name matches this glob (*, ?, [a-z]), each its own cluster; or repeat --context NAME')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'The debug container''s image [default: the debug_image setting, busybox]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'The privileges the debug container gets, as kubectl''s debug profiles [default: the debug_profile setting, general]')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Environment variables to set in the container: NAME=VALUE (repeatable; A=1,B=2 sets two, as in kubectl)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'The debug container''s name')
            [CompletionResult]::new('--container', '--container', [CompletionResultType]::ParameterName, 'The debug container''s name')
            [CompletionResult]::new('--custom', '--custom', [CompletionResultType]::ParameterName, 'A partial container spec (JSON or YAML) merged onto the profile''s container, as kubectl''s --custom')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'How long the pod may live; it stops by itself after this [default: 1h]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the pod to start [default: 2m]')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why you need the node; recorded on the pod for the audit trail')
            [CompletionResult]::new('--image-pull-secret', '--image-pull-secret', [CompletionResultType]::ParameterName, 'A Secret to pull the image with (repeatable)')
            [CompletionResult]::new('--image-pull-policy', '--image-pull-policy', [CompletionResultType]::ParameterName, 'When to pull the image')
            [CompletionResult]::new('--priority-class', '--priority-class', [CompletionResultType]::ParameterName, 'The pod''s PriorityClass, e.g. system-node-critical for a node at its pod limit')
            [CompletionResult]::new('--persist', '--persist', [CompletionResultType]::ParameterName, 'Keep the pod for your next session on this node with the same image and flags, until it has been idle this long (never past --ttl); 0 ends it after this session')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Run COMMAND on every node (with -l, every matching node)')
            [CompletionResult]::new('--include-not-ready', '--include-not-ready', [CompletionResultType]::ParameterName, 'Run on NotReady nodes too, instead of skipping them')
            [CompletionResult]::new('--include-cordoned', '--include-cordoned', [CompletionResultType]::ParameterName, 'Run on cordoned (unschedulable) nodes too, instead of skipping them')
            [CompletionResult]::new('--no-back-off', '--no-back-off', [CompletionResultType]::ParameterName, 'Keep --fanout''s width even while the API server pushes back: only to compare with the default, which sends fewer at once (docs/fan-out.md)')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'At the end, print identical outputs once, under the nodes that gave them')
            [CompletionResult]::new('--gather', '--gather', [CompletionResultType]::ParameterName, 'At the end, print identical outputs once, under the nodes that gave them')
            [CompletionResult]::new('--no-stream', '--no-stream', [CompletionResultType]::ParameterName, 'Run the command as each pod''s own process and read its output from the pod''s status: no stream per node (the default with --gather and -o)')
            [CompletionResult]::new('--stream', '--stream', [CompletionResultType]::ParameterName, 'Stream each node''s output through an exec, even with --gather or -o')
            [CompletionResult]::new('--all-contexts', '--all-contexts', [CompletionResultType]::ParameterName, 'Every context of the kubeconfig, each its own cluster')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Do not print the "Creating debugging pod" line')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print the "Creating debugging pod" line')
            [CompletionResult]::new('--chroot', '--chroot', [CompletionResultType]::ParameterName, 'Run the shell or COMMAND chrooted into the node''s / (mounted at /host)')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Leave the pod running after the session, and print how to reach and remove it')
            [CompletionResult]::new('--no-record', '--no-record', [CompletionResultType]::ParameterName, 'Do not record the session (where the namespace''s policy allows it)')
            [CompletionResult]::new('--record-input', '--record-input', [CompletionResultType]::ParameterName, 'Record what is typed too; by default only the output is, so that a password typed at a prompt stays out')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'toolbox;logs' {
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Nodes matching this label selector (with --all); every argument is then a log')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Nodes matching this label selector (with --all); every argument is then a log')
            [CompletionResult]::new('--fanout', '--fanout', [CompletionResultType]::ParameterName, 'How many nodes run at once [default: 64]')
            [CompletionResult]::new('--os', '--os', [CompletionResultType]::ParameterName, 'Run only on nodes of this OS; any runs on every OS [default: linux]')
            [CompletionResult]::new('--command-timeout', '--command-timeout', [CompletionResultType]::ParameterName, 'Give up on a node whose command runs longer than this')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Print one document with every node''s output and exit status at the end')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Print one document with every node''s output and exit status at the end')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only lines since then: a duration ago (1h, 30m) or a time (RFC 3339, or YYYY-MM-DD HH:MM:SS in UTC)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only lines until then: a duration ago or a time, as --since')
            [CompletionResult]::new('--tail', '--tail', [CompletionResultType]::ParameterName, 'Only the last N lines (at most 100000) [with -f: 10]')
            [CompletionResult]::new('--grep', '--grep', [CompletionResultType]::ParameterName, 'Only lines that match this regular expression (RE2; case-insensitive when all lower-case, as journalctl''s)')
            [CompletionResult]::new('--boot', '--boot', [CompletionResultType]::ParameterName, 'Only this boot''s journal: 0 the current, -1 the one before, ...')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'Its image; it needs busybox''s sh, cat, tail and nsenter [default: the image setting, toolbox''s node-tools]')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'How long the pod may live; it stops by itself after this [default: 1h]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the pod to start [default: 2m]')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why you need the node; recorded on the pod for the audit trail')
            [CompletionResult]::new('--image-pull-secret', '--image-pull-secret', [CompletionResultType]::ParameterName, 'A Secret to pull the image with (repeatable)')
            [CompletionResult]::new('--image-pull-policy', '--image-pull-policy', [CompletionResultType]::ParameterName, 'When to pull the image')
            [CompletionResult]::new('--priority-class', '--priority-class', [CompletionResultType]::ParameterName, 'The pod''s PriorityClass, e.g. system-node-critical for a node at its pod limit')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every node (with -l, every matching node); every argument is then a log')
            [CompletionResult]::new('--include-not-ready', '--include-not-ready', [CompletionResultType]::ParameterName, 'Run on NotReady nodes too, instead of skipping them')
            [CompletionResult]::new('--include-cordoned', '--include-cordoned', [CompletionResultType]::ParameterName, 'Run on cordoned (unschedulable) nodes too, instead of skipping them')
            [CompletionResult]::new('--no-back-off', '--no-back-off', [CompletionResultType]::ParameterName, 'Keep --fanout''s width even while the API server pushes back: only to compare with the default, which sends fewer at once (docs/fan-out.md)')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'At the end, print identical outputs once, under the nodes that gave them')
            [CompletionResult]::new('--gather', '--gather', [CompletionResultType]::ParameterName, 'At the end, print identical outputs once, under the nodes that gave them')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Follow the log as it grows, until Ctrl-C (one log per node)')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Follow the log as it grows, until Ctrl-C (one log per node)')
            [CompletionResult]::new('--no-record', '--no-record', [CompletionResultType]::ParameterName, 'Do not record its session (where the namespace''s policy allows it)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'toolbox;compare' {
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Choose among the nodes that match this label selector (the only match is used as is)')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Choose among the nodes that match this label selector (the only match is used as is)')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'The image of both pods [default: the image and debug_image settings]')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'debug-node''s profile [default: the debug_profile setting, general]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: the comparison as tables, or all of it as JSON or YAML')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: the comparison as tables, or all of it as JSON or YAML')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('--diff', '--diff', [CompletionResultType]::ParameterName, 'Print a unified diff of the two pods'' YAML, and nothing else')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'toolbox;cleanup' {
            [CompletionResult]::new('--node', '--node', [CompletionResultType]::ParameterName, 'Only pods on this node (NAME or node/NAME)')
            [CompletionResult]::new('--tool', '--tool', [CompletionResultType]::ParameterName, 'Only the pods of this tool (repeatable)')
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Only pods at least this old, e.g. 30m or 2h')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format: a table, or what was found and done as JSON or YAML')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format: a table, or what was found and done as JSON or YAML')
            [CompletionResult]::new('--contexts', '--contexts', [CompletionResultType]::ParameterName, 'Every kubeconfig context whose name matches this glob (*, ?, [a-z]), each its own cluster; or repeat --context NAME')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Look in all namespaces, even when -n is given (the default without -n)')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Look in all namespaces, even when -n is given (the default without -n)')
            [CompletionResult]::new('--finished', '--finished', [CompletionResultType]::ParameterName, 'Only pods whose containers have ended (phase Succeeded or Failed)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Delete everything listed without asking')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Delete everything listed without asking')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'List what would be deleted, and delete nothing')
            [CompletionResult]::new('--all-contexts', '--all-contexts', [CompletionResultType]::ParameterName, 'Every context of the kubeconfig, each its own cluster')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'toolbox;policy' {
            [CompletionResult]::new('--group', '--group', [CompletionResultType]::ParameterName, 'The group allowed node access through the namespace')
            [CompletionResult]::new('--max-ttl', '--max-ttl', [CompletionResultType]::ParameterName, 'The longest lifetime a node-access pod may ask for [default: 2h, or --default-ttl if longer]')
            [CompletionResult]::new('--default-ttl', '--default-ttl', [CompletionResultType]::ParameterName, 'The lifetime given to a node-access pod that asks for none (kubectl debug''s) [default: 1h, or --max-ttl if shorter]')
            [CompletionResult]::new('--cleanup-group', '--cleanup-group', [CompletionResultType]::ParameterName, 'A group allowed to find and delete leftover node-debug pods in every namespace')
            [CompletionResult]::new('--recorder-image', '--recorder-image', [CompletionResultType]::ParameterName, 'The image whose recorder the pods must carry [default: the recorder_image setting]')
            [CompletionResult]::new('--kube-version', '--kube-version', [CompletionResultType]::ParameterName, 'The Kubernetes release to print for, e.g. 1.35 (default: ask the cluster)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('--require-recording', '--require-recording', [CompletionResultType]::ParameterName, 'Require every session in the namespace to be recorded: exec only through the recorder, no attach, and node-access pods that carry it (refuses kubectl debug node/, kubectl-node-shell and toolbox --no-record there)')
            [CompletionResult]::new('--audit-policy', '--audit-policy', [CompletionResultType]::ParameterName, 'Print only the API server''s audit Policy for node sessions')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'toolbox;cp' {
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'The pod''s image; it needs sleep [default: the image setting, toolbox''s node-tools]')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'How long the pod may live; it stops by itself after this [default: 1h]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the pod to start [default: 2m]')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why you need the node; recorded on the pod for the audit trail')
            [CompletionResult]::new('--image-pull-secret', '--image-pull-secret', [CompletionResultType]::ParameterName, 'A Secret to pull the image with (repeatable)')
            [CompletionResult]::new('--image-pull-policy', '--image-pull-policy', [CompletionResultType]::ParameterName, 'When to pull the image')
            [CompletionResult]::new('--priority-class', '--priority-class', [CompletionResultType]::ParameterName, 'The pod''s PriorityClass, e.g. system-node-critical for a node at its pod limit')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Overwrite files and merge into directories that exist')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Overwrite files and merge into directories that exist')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'DEST is the name to write, never a directory to copy into')
            [CompletionResult]::new('--no-target-directory', '--no-target-directory', [CompletionResultType]::ParameterName, 'DEST is the name to write, never a directory to copy into')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'toolbox;dump' {
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Every node matching this label selector')
            [CompletionResult]::new('--selector', '--selector', [CompletionResultType]::ParameterName, 'Every node matching this label selector')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Where to write the bundle: a new directory, or FILE.tar.gz [default: a new toolbox-dump-TIMESTAMP directory here]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Where to write the bundle: a new directory, or FILE.tar.gz [default: a new toolbox-dump-TIMESTAMP directory here]')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'The services'' logs from this long ago on, e.g. 30m or 24h')
            [CompletionResult]::new('--spec', '--spec', [CompletionResultType]::ParameterName, 'What to collect, in YAML or JSON, instead of the built-in list (docs/dump.md)')
            [CompletionResult]::new('--max-per-node', '--max-per-node', [CompletionResultType]::ParameterName, 'The most read from one node; an item cut there is named in the index')
            [CompletionResult]::new('--max-total', '--max-total', [CompletionResultType]::ParameterName, 'The most read from all nodes together')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'The pods'' image; it needs busybox''s applets and nsenter [default: the image setting]')
            [CompletionResult]::new('--ttl', '--ttl', [CompletionResultType]::ParameterName, 'How long the pod may live; it stops by itself after this [default: 1h]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the pod to start [default: 2m]')
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why you need the node; recorded on the pod for the audit trail')
            [CompletionResult]::new('--image-pull-secret', '--image-pull-secret', [CompletionResultType]::ParameterName, 'A Secret to pull the image with (repeatable)')
            [CompletionResult]::new('--image-pull-policy', '--image-pull-policy', [CompletionResultType]::ParameterName, 'When to pull the image')
            [CompletionResult]::new('--priority-class', '--priority-class', [CompletionResultType]::ParameterName, 'The pod''s PriorityClass, e.g. system-node-critical for a node at its pod limit')
            [CompletionResult]::new('--fanout', '--fanout', [CompletionResultType]::ParameterName, 'How many nodes run at once [default: 64]')
            [CompletionResult]::new('--os', '--os', [CompletionResultType]::ParameterName, 'Run only on nodes of this OS; any runs on every OS [default: linux]')
            [CompletionResult]::new('--command-timeout', '--command-timeout', [CompletionResultType]::ParameterName, 'Give up on a node whose command runs longer than this')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every node (with -l, every matching node)')
            [CompletionResult]::new('--pod-logs', '--pod-logs', [CompletionResultType]::ParameterName, 'Collect the contents of the pods'' logs under /var/log/pods, not only their listing')
            [CompletionResult]::new('--include-not-ready', '--include-not-ready', [CompletionResultType]::ParameterName, 'Run on NotReady nodes too, instead of skipping them')
            [CompletionResult]::new('--include-cordoned', '--include-cordoned', [CompletionResultType]::ParameterName, 'Run on cordoned (unschedulable) nodes too, instead of skipping them')
            [CompletionResult]::new('--no-back-off', '--no-back-off', [CompletionResultType]::ParameterName, 'Keep --fanout''s width even while the API server pushes back: only to compare with the default, which sends fewer at once (docs/fan-out.md)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'toolbox;sessions' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List recorded sessions: live ones, and with NODE those kept on the node')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print one session''s recording: asciicast, JSON, or plain text for grep')
            [CompletionResult]::new('play', 'play', [CompletionResultType]::ParameterValue, 'Replay one session in the terminal, with its timing')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'toolbox;sessions;list' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only sessions that started within this long, e.g. 30m or 24h')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Only the sessions of this user (the recording''s requested-by)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--contexts', '--contexts', [CompletionResultType]::ParameterName, 'Every kubeconfig context whose name matches this glob (*, ?, [a-z]), each its own cluster; or repeat --context NAME')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Live pods in all namespaces, even when -n is given')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Live pods in all namespaces, even when -n is given')
            [CompletionResult]::new('--all-contexts', '--all-contexts', [CompletionResultType]::ParameterName, 'Every context of the kubeconfig, each its own cluster')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'toolbox;sessions;get' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'cast: asciicast v2, as asciinema plays it; json: the header, events and whether it is truncated, as one document; text: the output with escape sequences removed')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'cast: asciicast v2, as asciinema plays it; json: the header, events and whether it is truncated, as one document; text: the output with escape sequences removed')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Look for the live pod in all namespaces, even when -n is given')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Look for the live pod in all namespaces, even when -n is given')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'toolbox;sessions;play' {
            [CompletionResult]::new('--speed', '--speed', [CompletionResultType]::ParameterName, 'Play this many times faster (0.5 is half speed)')
            [CompletionResult]::new('--idle-limit', '--idle-limit', [CompletionResultType]::ParameterName, 'Shorten every pause longer than this many seconds to it')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Look for the live pod in all namespaces, even when -n is given')
            [CompletionResult]::new('--all-namespaces', '--all-namespaces', [CompletionResultType]::ParameterName, 'Look for the live pod in all namespaces, even when -n is given')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'toolbox;sessions;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List recorded sessions: live ones, and with NODE those kept on the node')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print one session''s recording: asciicast, JSON, or plain text for grep')
            [CompletionResult]::new('play', 'play', [CompletionResultType]::ParameterValue, 'Replay one session in the terminal, with its timing')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'toolbox;sessions;help;list' {
            break
        }
        'toolbox;sessions;help;get' {
            break
        }
        'toolbox;sessions;help;play' {
            break
        }
        'toolbox;sessions;help;help' {
            break
        }
        'toolbox;config' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'toolbox;completion' {
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'toolbox;version' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format; kubectl''s clientVersion and serverVersion')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format; kubectl''s clientVersion and serverVersion')
            [CompletionResult]::new('--kubeconfig', '--kubeconfig', [CompletionResultType]::ParameterName, 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'The kubeconfig context to use')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'The namespace toolbox creates its pods in')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'Username to impersonate for the operation')
            [CompletionResult]::new('--as-group', '--as-group', [CompletionResultType]::ParameterName, 'Group to impersonate for the operation (repeatable)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v for details, -vv for debugging')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'toolbox;help' {
            [CompletionResult]::new('node-shell', 'node-shell', [CompletionResultType]::ParameterValue, 'Open a root shell on a node (nsenter into the host''s namespaces)')
            [CompletionResult]::new('debug-node', 'debug-node', [CompletionResultType]::ParameterValue, 'Debug a node with kubectl''s debug-node pod, deleted when the session ends')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Read a node''s service journals and log files, without a root shell')
            [CompletionResult]::new('compare', 'compare', [CompletionResultType]::ParameterValue, 'Compare node-shell and debug-node on this cluster, node and namespace')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Find and delete the node-debug pods that toolbox and other tools left behind')
            [CompletionResult]::new('policy', 'policy', [CompletionResultType]::ParameterValue, 'Print RBAC and admission policies that bound node access, for kubectl apply -f -')
            [CompletionResult]::new('cp', 'cp', [CompletionResultType]::ParameterValue, 'Copy files and directories between a node and this machine, sha256-checked')
            [CompletionResult]::new('dump', 'dump', [CompletionResultType]::ParameterValue, 'Collect a diagnostic bundle from many nodes: logs, dmesg, runtime, disk, config')
            [CompletionResult]::new('sessions', 'sessions', [CompletionResultType]::ParameterValue, 'Find, read and replay recorded sessions')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show the effective settings and where each value came from')
            [CompletionResult]::new('completion', 'completion', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Show the version of toolbox and of the cluster''s API server')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'toolbox;help;node-shell' {
            break
        }
        'toolbox;help;debug-node' {
            break
        }
        'toolbox;help;logs' {
            break
        }
        'toolbox;help;compare' {
            break
        }
        'toolbox;help;cleanup' {
            break
        }
        'toolbox;help;policy' {
            break
        }
        'toolbox;help;cp' {
            break
        }
        'toolbox;help;dump' {
            break
        }
        'toolbox;help;sessions' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List recorded sessions: live ones, and with NODE those kept on the node')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print one session''s recording: asciicast, JSON, or plain text for grep')
            [CompletionResult]::new('play', 'play', [CompletionResultType]::ParameterValue, 'Replay one session in the terminal, with its timing')
            break
        }
        'toolbox;help;sessions;list' {
            break
        }
        'toolbox;help;sessions;get' {
            break
        }
        'toolbox;help;sessions;play' {
            break
        }
        'toolbox;help;config' {
            break
        }
        'toolbox;help;completion' {
            break
        }
        'toolbox;help;version' {
            break
        }
        'toolbox;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
