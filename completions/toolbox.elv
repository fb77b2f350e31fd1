
use builtin;
use str;

set edit:completion:arg-completer[toolbox] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'toolbox'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'toolbox'= {
            cand --kubeconfig 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand -n 'The namespace toolbox creates its pods in'
            cand --namespace 'The namespace toolbox creates its pods in'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate for the operation (repeatable)'
            cand --config 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)'
            cand -v 'More output on stderr: -v for details, -vv for debugging'
            cand --verbose 'More output on stderr: -v for details, -vv for debugging'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand node-shell 'Open a root shell on a node (nsenter into the host''s namespaces)'
            cand debug-node 'Debug a node with kubectl''s debug-node pod, deleted when the session ends'
            cand logs 'Read a node''s service journals and log files, without a root shell'
            cand compare 'Compare node-shell and debug-node on this cluster, node and namespace'
            cand cleanup 'Find and delete the node-debug pods that toolbox and other tools left behind'
            cand policy 'Print RBAC and admission policies that bound node access, for kubectl apply -f -'
            cand sessions 'Find, read and replay recorded sessions'
            cand config 'Show the effective settings and where each value came from'
            cand completion 'Print a shell completion script'
            cand version 'Show the version of toolbox and of the cluster''s API server'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'toolbox;node-shell'= {
            cand -l 'Nodes matching this label selector: with --all, every one; else choose among them (the only match is used as is)'
            cand --selector 'Nodes matching this label selector: with --all, every one; else choose among them (the only match is used as is)'
            cand --fanout 'How many nodes run at once [default: 64]'
            cand -o 'Print one document with every node''s output and exit status at the end'
            cand --output 'Print one document with every node''s output and exit status at the end'
            cand --os 'Run only on nodes of this OS; any runs on every OS [default: linux]'
            cand --command-timeout 'Give up on a node whose command runs longer than this'
            cand --image 'The image; it needs nsenter and sleep [default: the image setting, toolbox''s node-tools]'
            cand --ttl 'How long the pod may live; it stops by itself after this [default: 1h]'
            cand --timeout 'How long to wait for the pod to start [default: 2m]'
            cand --reason 'Why you need the node; recorded on the pod for the audit trail'
            cand --persist 'Keep the pod for your next session on this node with the same image and flags, until it has been idle this long (never past --ttl); 0 ends it after this session'
            cand --image-pull-secret 'A Secret to pull the image with (repeatable)'
            cand --image-pull-policy 'When to pull the image'
            cand --priority-class 'The pod''s PriorityClass, e.g. system-node-critical for a node at its pod limit'
            cand --kubeconfig 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand -n 'The namespace toolbox creates its pods in'
            cand --namespace 'The namespace toolbox creates its pods in'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate for the operation (repeatable)'
            cand --config 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)'
            cand --all 'Run COMMAND on every node (with -l, every matching node)'
            cand -b 'At the end, print identical outputs once, under the nodes that gave them'
            cand --gather 'At the end, print identical outputs once, under the nodes that gave them'
            cand --include-not-ready 'Run on NotReady nodes too, instead of skipping them'
            cand --include-cordoned 'Run on cordoned (unschedulable) nodes too, instead of skipping them'
            cand --no-mount 'Do not enter the host''s mount namespace'
            cand --no-uts 'Do not enter the host''s UTS namespace (hostname)'
            cand --no-ipc 'Do not enter the host''s IPC namespace, and do not share it with the pod'
            cand --no-net 'Do not enter the host''s network namespace, and do not share it with the pod'
            cand --no-pid 'Do not enter the host''s PID namespace, and do not share it with the pod'
            cand -x 'Mount the host''s / at /host and run the shell in the container, without nsenter'
            cand --host-mount 'Mount the host''s / at /host and run the shell in the container, without nsenter'
            cand --keep 'Leave the pod running after the session, and print how to reach and remove it'
            cand --no-record 'Do not record the session (where the namespace''s policy allows it)'
            cand --record-input 'Record what is typed too; by default only the output is, so that a password typed at a prompt stays out'
            cand -v 'More output on stderr: -v for details, -vv for debugging'
            cand --verbose 'More output on stderr: -v for details, -vv for debugging'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'toolbox;debug-node'= {
            cand -l 'Nodes matching this label selector: with --all, every one; else choose among them (the only match is used as is)'
            cand --selector 'Nodes matching this label selector: with --all, every one; else choose among them (the only match is used as is)'
            cand --fanout 'How many nodes run at once [default: 64]'
            cand -o 'Print one document with every node''s output and exit status at the end'
            cand --output 'Print one document with every node''s output and exit status at the end'
            cand --os 'Run only on nodes of this OS; any runs on every OS [default: linux]'
            cand --command-timeout 'Give up on a node whose command runs longer than this'
            cand --image 'The debug container''s image [default: the debug_image setting, busybox]'
            cand --profile 'The privileges the debug container gets, as kubectl''s debug profiles [default: the debug_profile setting, general]'
            cand --env 'Environment variables to set in the container: NAME=VALUE (repeatable; A=1,B=2 sets two, as in kubectl)'
            cand -c 'The debug container''s name'
            cand --container 'The debug container''s name'
            cand --custom 'A partial container spec (JSON or YAML) merged onto the profile''s container, as kubectl''s --custom'
            cand --ttl 'How long the pod may live; it stops by itself after this [default: 1h]'
            cand --timeout 'How long to wait for the pod to start [default: 2m]'
            cand --reason 'Why you need the node; recorded on the pod for the audit trail'
            cand --persist 'Keep the pod for your next session on this node with the same image and flags, until it has been idle this long (never past --ttl); 0 ends it after this session'
            cand --image-pull-secret 'A Secret to pull the image with (repeatable)'
            cand --image-pull-policy 'When to pull the image'
            cand --priority-class 'The pod''s PriorityClass, e.g. system-node-critical for a node at its pod limit'
            cand --kubeconfig 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand -n 'The namespace toolbox creates its pods in'
            cand --namespace 'The namespace toolbox creates its pods in'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate for the operation (repeatable)'
            cand --config 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)'
            cand --all 'Run COMMAND on every node (with -l, every matching node)'
            cand -b 'At the end, print identical outputs once, under the nodes that gave them'
            cand --gather 'At the end, print identical outputs once, under the nodes that gave them'
            cand --include-not-ready 'Run on NotReady nodes too, instead of skipping them'
            cand --include-cordoned 'Run on cordoned (unschedulable) nodes too, instead of skipping them'
            cand -q 'Do not print the "Creating debugging pod" line'
            cand --quiet 'Do not print the "Creating debugging pod" line'
            cand --chroot 'Run the shell or COMMAND chrooted into the node''s / (mounted at /host)'
            cand --keep 'Leave the pod running after the session, and print how to reach and remove it'
            cand --no-record 'Do not record the session (where the namespace''s policy allows it)'
            cand --record-input 'Record what is typed too; by default only the output is, so that a password typed at a prompt stays out'
            cand -v 'More output on stderr: -v for details, -vv for debugging'
            cand --verbose 'More output on stderr: -v for details, -vv for debugging'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'toolbox;logs'= {
            cand -l 'Nodes matching this label selector (with --all); every argument is then a log'
            cand --selector 'Nodes matching this label selector (with --all); every argument is then a log'
            cand --fanout 'How many nodes run at once [default: 64]'
            cand -o 'Print one document with every node''s output and exit status at the end'
            cand --output 'Print one document with every node''s output and exit status at the end'
            cand --os 'Run only on nodes of this OS; any runs on every OS [default: linux]'
            cand --command-timeout 'Give up on a node whose command runs longer than this'
            cand --since 'Only lines since then: a duration ago (1h, 30m) or a time (RFC 3339, or YYYY-MM-DD HH:MM:SS in UTC)'
            cand --until 'Only lines until then: a duration ago or a time, as --since'
            cand --tail 'Only the last N lines (at most 100000) [with -f: 10]'
            cand --grep 'Only lines that match this regular expression (RE2; case-insensitive when all lower-case, as journalctl''s)'
            cand --boot 'Only this boot''s journal: 0 the current, -1 the one before, ...'
            cand --image 'Its image; it needs busybox''s sh, cat, tail and nsenter [default: the image setting, toolbox''s node-tools]'
            cand --ttl 'How long it may live; it stops by itself after this [default: 1h]'
            cand --timeout 'How long to wait for it to start [default: 2m]'
            cand --reason 'Why you need the logs; recorded on the pod for the audit trail'
            cand --image-pull-secret 'A Secret to pull its image with (repeatable)'
            cand --image-pull-policy 'When to pull its image'
            cand --priority-class 'Its PriorityClass'
            cand --kubeconfig 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand -n 'The namespace toolbox creates its pods in'
            cand --namespace 'The namespace toolbox creates its pods in'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate for the operation (repeatable)'
            cand --config 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)'
            cand --all 'Every node (with -l, every matching node); every argument is then a log'
            cand -b 'At the end, print identical outputs once, under the nodes that gave them'
            cand --gather 'At the end, print identical outputs once, under the nodes that gave them'
            cand --include-not-ready 'Run on NotReady nodes too, instead of skipping them'
            cand --include-cordoned 'Run on cordoned (unschedulable) nodes too, instead of skipping them'
            cand -f 'Follow the log as it grows, until Ctrl-C (one log per node)'
            cand --follow 'Follow the log as it grows, until Ctrl-C (one log per node)'
            cand --no-record 'Do not record its session (where the namespace''s policy allows it)'
            cand -v 'More output on stderr: -v for details, -vv for debugging'
            cand --verbose 'More output on stderr: -v for details, -vv for debugging'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'toolbox;compare'= {
            cand -l 'Choose among the nodes that match this label selector (the only match is used as is)'
            cand --selector 'Choose among the nodes that match this label selector (the only match is used as is)'
            cand --image 'The image of both pods [default: the image and debug_image settings]'
            cand --profile 'debug-node''s profile [default: the debug_profile setting, general]'
            cand -o 'Output format: the comparison as tables, or all of it as JSON or YAML'
            cand --output 'Output format: the comparison as tables, or all of it as JSON or YAML'
            cand --kubeconfig 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand -n 'The namespace toolbox creates its pods in'
            cand --namespace 'The namespace toolbox creates its pods in'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate for the operation (repeatable)'
            cand --config 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)'
            cand --diff 'Print a unified diff of the two pods'' YAML, and nothing else'
            cand -v 'More output on stderr: -v for details, -vv for debugging'
            cand --verbose 'More output on stderr: -v for details, -vv for debugging'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'toolbox;cleanup'= {
            cand --node 'Only pods on this node (NAME or node/NAME)'
            cand --tool 'Only the pods of this tool (repeatable)'
            cand --older-than 'Only pods at least this old, e.g. 30m or 2h'
            cand -o 'Output format: a table, or what was found and done as JSON or YAML'
            cand --output 'Output format: a table, or what was found and done as JSON or YAML'
            cand --kubeconfig 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand -n 'The namespace toolbox creates its pods in'
            cand --namespace 'The namespace toolbox creates its pods in'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate for the operation (repeatable)'
            cand --config 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)'
            cand -A 'Look in all namespaces, even when -n is given (the default without -n)'
            cand --all-namespaces 'Look in all namespaces, even when -n is given (the default without -n)'
            cand --finished 'Only pods whose containers have ended (phase Succeeded or Failed)'
            cand -y 'Delete everything listed without asking'
            cand --yes 'Delete everything listed without asking'
            cand --dry-run 'List what would be deleted, and delete nothing'
            cand -v 'More output on stderr: -v for details, -vv for debugging'
            cand --verbose 'More output on stderr: -v for details, -vv for debugging'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'toolbox;policy'= {
            cand --group 'The group allowed node access through the namespace'
            cand --max-ttl 'The longest lifetime a node-access pod may ask for [default: 2h, or --default-ttl if longer]'
            cand --default-ttl 'The lifetime given to a node-access pod that asks for none (kubectl debug''s) [default: 1h, or --max-ttl if shorter]'
            cand --cleanup-group 'A group allowed to find and delete leftover node-debug pods in every namespace'
            cand --recorder-image 'The image whose recorder the pods must carry [default: the recorder_image setting]'
            cand --kube-version 'The Kubernetes release to print for, e.g. 1.35 (default: ask the cluster)'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --kubeconfig 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand -n 'The namespace toolbox creates its pods in'
            cand --namespace 'The namespace toolbox creates its pods in'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate for the operation (repeatable)'
            cand --config 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)'
            cand --require-recording 'Require every session in the namespace to be recorded: exec only through the recorder, no attach, and node-access pods that carry it (refuses kubectl debug node/, kubectl-node-shell and toolbox --no-record there)'
            cand --audit-policy 'Print only the API server''s audit Policy for node sessions'
            cand -v 'More output on stderr: -v for details, -vv for debugging'
            cand --verbose 'More output on stderr: -v for details, -vv for debugging'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'toolbox;sessions'= {
            cand --kubeconfig 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand -n 'The namespace toolbox creates its pods in'
            cand --namespace 'The namespace toolbox creates its pods in'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate for the operation (repeatable)'
            cand --config 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)'
            cand -v 'More output on stderr: -v for details, -vv for debugging'
            cand --verbose 'More output on stderr: -v for details, -vv for debugging'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand list 'List recorded sessions: live ones, and with NODE those kept on the node'
            cand get 'Print one session''s recording: asciicast, JSON, or plain text for grep'
            cand play 'Replay one session in the terminal, with its timing'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'toolbox;sessions;list'= {
            cand --since 'Only sessions that started within this long, e.g. 30m or 24h'
            cand --user 'Only the sessions of this user (the recording''s requested-by)'
            cand -o 'Output format'
            cand --output 'Output format'
            cand --kubeconfig 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand -n 'The namespace toolbox creates its pods in'
            cand --namespace 'The namespace toolbox creates its pods in'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate for the operation (repeatable)'
            cand --config 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)'
            cand -A 'Live pods in all namespaces, even when -n is given'
            cand --all-namespaces 'Live pods in all namespaces, even when -n is given'
            cand -v 'More output on stderr: -v for details, -vv for debugging'
            cand --verbose 'More output on stderr: -v for details, -vv for debugging'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'toolbox;sessions;get'= {
            cand -o 'cast: asciicast v2, as asciinema plays it; json: the header, events and whether it is truncated, as one document; text: the output with escape sequences removed'
            cand --output 'cast: asciicast v2, as asciinema plays it; json: the header, events and whether it is truncated, as one document; text: the output with escape sequences removed'
            cand --kubeconfig 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand -n 'The namespace toolbox creates its pods in'
            cand --namespace 'The namespace toolbox creates its pods in'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate for the operation (repeatable)'
            cand --config 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)'
            cand -A 'Look for the live pod in all namespaces, even when -n is given'
            cand --all-namespaces 'Look for the live pod in all namespaces, even when -n is given'
            cand -v 'More output on stderr: -v for details, -vv for debugging'
            cand --verbose 'More output on stderr: -v for details, -vv for debugging'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'toolbox;sessions;play'= {
            cand --speed 'Play this many times faster (0.5 is half speed)'
            cand --idle-limit 'Shorten every pause longer than this many seconds to it'
            cand --kubeconfig 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand -n 'The namespace toolbox creates its pods in'
            cand --namespace 'The namespace toolbox creates its pods in'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate for the operation (repeatable)'
            cand --config 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)'
            cand -A 'Look for the live pod in all namespaces, even when -n is given'
            cand --all-namespaces 'Look for the live pod in all namespaces, even when -n is given'
            cand -v 'More output on stderr: -v for details, -vv for debugging'
            cand --verbose 'More output on stderr: -v for details, -vv for debugging'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'toolbox;sessions;help'= {
            cand list 'List recorded sessions: live ones, and with NODE those kept on the node'
            cand get 'Print one session''s recording: asciicast, JSON, or plain text for grep'
            cand play 'Replay one session in the terminal, with its timing'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'toolbox;sessions;help;list'= {
        }
        &'toolbox;sessions;help;get'= {
        }
        &'toolbox;sessions;help;play'= {
        }
        &'toolbox;sessions;help;help'= {
        }
        &'toolbox;config'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand --kubeconfig 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand -n 'The namespace toolbox creates its pods in'
            cand --namespace 'The namespace toolbox creates its pods in'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate for the operation (repeatable)'
            cand --config 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)'
            cand -v 'More output on stderr: -v for details, -vv for debugging'
            cand --verbose 'More output on stderr: -v for details, -vv for debugging'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'toolbox;completion'= {
            cand --kubeconfig 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand -n 'The namespace toolbox creates its pods in'
            cand --namespace 'The namespace toolbox creates its pods in'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate for the operation (repeatable)'
            cand --config 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)'
            cand -v 'More output on stderr: -v for details, -vv for debugging'
            cand --verbose 'More output on stderr: -v for details, -vv for debugging'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'toolbox;version'= {
            cand -o 'Output format; kubectl''s clientVersion and serverVersion'
            cand --output 'Output format; kubectl''s clientVersion and serverVersion'
            cand --kubeconfig 'Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand -n 'The namespace toolbox creates its pods in'
            cand --namespace 'The namespace toolbox creates its pods in'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate for the operation (repeatable)'
            cand --config 'toolbox''s settings file (default: $XDG_CONFIG_HOME/toolbox/config.toml)'
            cand -v 'More output on stderr: -v for details, -vv for debugging'
            cand --verbose 'More output on stderr: -v for details, -vv for debugging'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'toolbox;help'= {
            cand node-shell 'Open a root shell on a node (nsenter into the host''s namespaces)'
            cand debug-node 'Debug a node with kubectl''s debug-node pod, deleted when the session ends'
            cand logs 'Read a node''s service journals and log files, without a root shell'
            cand compare 'Compare node-shell and debug-node on this cluster, node and namespace'
            cand cleanup 'Find and delete the node-debug pods that toolbox and other tools left behind'
            cand policy 'Print RBAC and admission policies that bound node access, for kubectl apply -f -'
            cand sessions 'Find, read and replay recorded sessions'
            cand config 'Show the effective settings and where each value came from'
            cand completion 'Print a shell completion script'
            cand version 'Show the version of toolbox and of the cluster''s API server'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'toolbox;help;node-shell'= {
        }
        &'toolbox;help;debug-node'= {
        }
        &'toolbox;help;logs'= {
        }
        &'toolbox;help;compare'= {
        }
        &'toolbox;help;cleanup'= {
        }
        &'toolbox;help;policy'= {
        }
        &'toolbox;help;sessions'= {
            cand list 'List recorded sessions: live ones, and with NODE those kept on the node'
            cand get 'Print one session''s recording: asciicast, JSON, or plain text for grep'
            cand play 'Replay one session in the terminal, with its timing'
        }
        &'toolbox;help;sessions;list'= {
        }
        &'toolbox;help;sessions;get'= {
        }
        &'toolbox;help;sessions;play'= {
        }
        &'toolbox;help;config'= {
        }
        &'toolbox;help;completion'= {
        }
        &'toolbox;help;version'= {
        }
        &'toolbox;help;help'= {
        }
    ]
    $completions[$command]
}
