
use builtin;
use str;

set edit:completion:arg-completer[ltc] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'ltc'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'ltc'= {
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand target 'Show or set the system domain apps are routed under'
            cand create 'Create an app from a Docker image (the built-in lattice-app when none is named)'
            cand scale 'Change the number of instances of an app (0 stops it)'
            cand update 'Replace an app''s routes, live, without restarting it'
            cand remove 'Remove apps and their instances'
            cand list 'List the apps'
            cand status 'Show an app''s settings and its instances'
            cand cells 'Show this machine as Lattice showed a cell: memory, CPUs, instances'
            cand visualize 'Show where instances run: a dot per instance, green running, yellow starting'
            cand logs 'Stream an app''s logs: every instance, its lifecycle, health checks and router lines'
            cand debug-logs 'Stream the node''s own log'
            cand events 'Stream lifecycle events (app created, instance crashed, route added, ...)'
            cand test 'Run Lattice''s integration test against this machine: create, route, logs, scale, TCP, remove'
            cand version 'Show the versions of ltc, its node and the Docker engine'
            cand daemon 'Run, start, stop or check the node that keeps apps converged'
            cand completions 'Print the completion script for a shell (bash, zsh, fish, powershell, elvish)'
            cand help 'Show the commands by topic, or one command''s help'
        }
        &'ltc;target'= {
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;create'= {
            cand -i 'Number of instances'
            cand --instances 'Number of instances'
            cand -p 'Ports the app listens on, comma separated [default: the image''s EXPOSE, else 8080]'
            cand --ports 'Ports the app listens on, comma separated [default: the image''s EXPOSE, else 8080]'
            cand -e 'Environment variable NAME=VALUE; a bare NAME copies its value from your environment'
            cand --env 'Environment variable NAME=VALUE; a bare NAME copies its value from your environment'
            cand -m 'Memory limit per instance in MB (0 = unlimited)'
            cand --memory-mb 'Memory limit per instance in MB (0 = unlimited)'
            cand -d 'Disk limit per instance in MB (0 = unlimited; recorded, as Lattice did not enforce it)'
            cand --disk-mb 'Disk limit per instance in MB (0 = unlimited; recorded, as Lattice did not enforce it)'
            cand -c 'Relative CPU weight, 1 to 100'
            cand --cpu-weight 'Relative CPU weight, 1 to 100'
            cand --pids-limit 'Most processes and threads per instance (0 = unlimited), so a fork bomb stays inside'
            cand -w 'Working directory [default: the image''s WORKDIR, else /]'
            cand --working-dir 'Working directory [default: the image''s WORKDIR, else /]'
            cand -u 'User to run as [default: the image''s USER, else root]'
            cand --user 'User to run as [default: the image''s USER, else root]'
            cand -R 'HTTP route HOST[:PORT]; a HOST without a dot gets .<domain> [create: replaces the default routes]'
            cand --http-route 'HTTP route HOST[:PORT]; a HOST without a dot gets .<domain> [create: replaces the default routes]'
            cand -T 'TCP route EXTERNAL[:PORT], opened on the router''s address'
            cand --tcp-route 'TCP route EXTERNAL[:PORT], opened on the router''s address'
            cand -M 'Check that this port listens [default: the lowest port]'
            cand --monitor-port 'Check that this port listens [default: the lowest port]'
            cand -U 'Check that GET PORT:/PATH answers 200'
            cand --monitor-url 'Check that GET PORT:/PATH answers 200'
            cand --monitor-command 'Check that `/bin/sh -c COMMAND` exits 0 inside the instance'
            cand --monitor-timeout 'How long one check may take'
            cand --start-timeout 'How long a new instance may take to pass its first check before its start counts as a crash (and is retried with the crash backoff)'
            cand -t 'How long to wait for every instance to run (2m, 90s, ...)'
            cand --timeout 'How long to wait for every instance to run (2m, 90s, ...)'
            cand --privileged 'Run privileged (the app can break out of its container)'
            cand --no-routes 'No routes [update: removes every route]'
            cand --no-monitor 'No check: an instance is running as soon as its process runs'
            cand --wait 'Wait until the change is done (the default)'
            cand --no-wait 'Return as soon as the node has accepted the change'
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;scale'= {
            cand -t 'How long to wait for the app to reach that number'
            cand --timeout 'How long to wait for the app to reach that number'
            cand --wait 'Wait until the change is done (the default)'
            cand --no-wait 'Return as soon as the node has accepted the change'
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;update'= {
            cand -R 'HTTP route HOST[:PORT]; a HOST without a dot gets .<domain> [create: replaces the default routes]'
            cand --http-route 'HTTP route HOST[:PORT]; a HOST without a dot gets .<domain> [create: replaces the default routes]'
            cand -T 'TCP route EXTERNAL[:PORT], opened on the router''s address'
            cand --tcp-route 'TCP route EXTERNAL[:PORT], opened on the router''s address'
            cand --no-routes 'No routes [update: removes every route]'
            cand --wait 'Wait until the change is done (the default)'
            cand --no-wait 'Return as soon as the node has accepted the change'
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;remove'= {
            cand -t 'How long to wait for each app''s instances to stop'
            cand --timeout 'How long to wait for each app''s instances to stop'
            cand --wait 'Wait until the change is done (the default)'
            cand --no-wait 'Return as soon as the node has accepted the change'
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;list'= {
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;status'= {
            cand -r 'Redraw every DURATION until Ctrl-C (needs a terminal)'
            cand --rate 'Redraw every DURATION until Ctrl-C (needs a terminal)'
            cand -d 'One block per instance: guid, container, ports, crashes, next restart, CPU, memory'
            cand --detailed 'One block per instance: guid, container, ports, crashes, next restart, CPU, memory'
            cand --show-env 'Show environment values (only names are shown otherwise; `--json` always has both)'
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;cells'= {
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;visualize'= {
            cand -r 'Redraw every DURATION until Ctrl-C (needs a terminal)'
            cand --rate 'Redraw every DURATION until Ctrl-C (needs a terminal)'
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;logs'= {
            cand --tail 'Start with the last N lines kept so far'
            cand --index 'Only the lines of this instance'
            cand --recent 'Print the lines kept so far and exit, instead of following'
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;debug-logs'= {
            cand --raw 'Plain lines, without colour'
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;events'= {
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;test'= {
            cand -t 'How long the whole test may take'
            cand --timeout 'How long the whole test may take'
            cand -v 'Say what each step is waiting for'
            cand --verbose 'Say what each step is waiting for'
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;version'= {
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;daemon'= {
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run the node in the foreground (for systemd and the like)'
            cand start 'Start the node in the background, unless it already runs'
            cand stop 'Stop the node (apps keep running; the next node adopts them)'
            cand status 'Say whether the node runs'
        }
        &'ltc;daemon;run'= {
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;daemon;start'= {
            cand -t 'How long to wait for the node to answer'
            cand --timeout 'How long to wait for the node to answer'
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;daemon;stop'= {
            cand -t 'How long to wait for the node to exit'
            cand --timeout 'How long to wait for the node to exit'
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;daemon;status'= {
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;completions'= {
            cand --install 'Install the script where the shell looks for it, and the man pages where `man` does, for this user (bash, zsh and fish)'
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'ltc;help'= {
            cand --json 'Print results as JSON on stdout, and errors as one JSON object on stderr'
            cand -q 'Print nothing but results and errors (no progress, notes or warnings)'
            cand --quiet 'Print nothing but results and errors (no progress, notes or warnings)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
    ]
    $completions[$command]
}
