# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ltc_global_optspecs
    string join \n json q/quiet h/help V/version
end

function __fish_ltc_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ltc_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ltc_using_subcommand
    set -l cmd (__fish_ltc_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ltc -n "__fish_ltc_needs_command" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_needs_command" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_needs_command" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_needs_command" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "target" -d 'Show or set the system domain apps are routed under'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "create" -d 'Create an app from a Docker image (the built-in lattice-app when none is named)'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "scale" -d 'Change the number of instances of an app (0 stops it)'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "update" -d 'Change a running app without downtime: a new revision rolled out instance by instance (image, environment, command, limits, monitor), or its routes, live'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "rollback" -d 'Roll an app back to its previous revision (or `--to N`), instance by instance'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "restart" -d 'Replace an app\'s instances with new ones of the same revision, one at a time'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "history" -d 'List an app\'s revisions: number, time, what changed, image, outcome'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "remove" -d 'Remove apps and their instances'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "ssh" -d 'A shell or a command in an instance, or a local port forwarded to it'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "volumes" -d 'List the named volumes: size and the apps that mount them'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "run" -d 'Run a one-off command with an app\'s image, environment and limits (not routed)'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "submit-task" -d 'Submit a one-off task from a Lattice task JSON file'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "task" -d 'Show a task (or every task)'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "cancel-task" -d 'Stop a pending or running task'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "delete-task" -d 'Cancel a task if it still runs, and forget it'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "list" -d 'List the apps'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "status" -d 'Show an app\'s settings and its instances'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "cells" -d 'Show this machine as Lattice showed a cell: memory, CPUs, instances'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "ca" -d 'Show the local certificate authority HTTPS uses, and how to trust it'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "visualize" -d 'Show where instances run: a dot per instance, green running, yellow starting'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "logs" -d 'Stream an app\'s logs: every instance, its lifecycle, health checks and router lines'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "debug-logs" -d 'Stream the node\'s own log'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "events" -d 'Stream lifecycle events (app created, instance crashed, route added, ...)'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "test" -d 'Run Lattice\'s integration test against this machine: create, route, logs, scale, TCP, remove'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "version" -d 'Show the versions of ltc, its node and the Docker engine'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "daemon" -d 'Run, start, stop or check the node that keeps apps converged'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "completions" -d 'Print the completion script for a shell (bash, zsh, fish, powershell, elvish)'
complete -c ltc -n "__fish_ltc_needs_command" -f -a "help" -d 'Show the commands by topic, or one command\'s help'
complete -c ltc -n "__fish_ltc_using_subcommand target" -l engine -d 'The engine to drive: `docker` (one machine) or `swarm` (every machine of the Docker Swarm whose manager DOCKER_HOST names). Only with no apps; the node restarts on it' -r -f -a "docker\t''
swarm\t''"
complete -c ltc -n "__fish_ltc_using_subcommand target" -l registry -d 'The registry (HOST:PORT) that carries local and built images to a swarm\'s machines; "" for none (instances then stay on the manager\'s machine)' -r
complete -c ltc -n "__fish_ltc_using_subcommand target" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand target" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand target" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand target" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand create" -l path -d 'Build the image from this directory\'s Dockerfile (honouring .dockerignore)' -r -f -a "(__fish_complete_directories)"
complete -c ltc -n "__fish_ltc_using_subcommand create" -l dockerfile -d 'The Dockerfile to build, relative to the directory [default: Dockerfile]' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -l build-arg -d 'A build argument NAME=VALUE (a bare NAME copies your environment\'s value)' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -l env-file -d 'Environment variables from a file, as `docker run --env-file` reads it (`-e` wins)' -r -F
complete -c ltc -n "__fish_ltc_using_subcommand create" -l volume -d 'Mount a named volume (kept across restarts, shared by the instances) or a directory of this machine: NAME:/PATH[:ro] or /HOST/DIR:/PATH[:ro]' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -s i -l instances -d 'Number of instances' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -s p -l ports -d 'Ports the app listens on, comma separated [default: the image\'s EXPOSE, else 8080]' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -s e -l env -d 'Environment variable NAME=VALUE; a bare NAME copies its value from your environment' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -s m -l memory-mb -d 'Memory limit per instance in MB (0 = unlimited)' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -s d -l disk-mb -d 'Disk limit per instance in MB (0 = unlimited; recorded, as Lattice did not enforce it)' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -s c -l cpu-weight -d 'Relative CPU weight, 1 to 100' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -l pids-limit -d 'Most processes and threads per instance (0 = unlimited), so a fork bomb stays inside' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -s w -l working-dir -d 'Working directory [default: the image\'s WORKDIR, else /]' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -s u -l user -d 'User to run as [default: the image\'s USER, else root]' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -s R -l http-route -d 'HTTP route HOST[:PORT]; a HOST without a dot gets .<domain> [create: replaces the default routes]' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -s T -l tcp-route -d 'TCP route EXTERNAL[:PORT], opened on the router\'s address' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -s M -l monitor-port -d 'Check that this port listens [default: the lowest port]' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -s U -l monitor-url -d 'Check that GET PORT:/PATH answers 200' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -l monitor-command -d 'Check that `/bin/sh -c COMMAND` exits 0 inside the instance' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -l monitor-timeout -d 'How long one check may take' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -l start-timeout -d 'How long a new instance may take to pass its first check before its start counts as a crash (and is retried with the crash backoff)' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -l response-timeout -d 'How long an instance may take to start its response before the router answers 504 [default: 15m]' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -l drain-timeout -d 'How long a stopping instance\'s requests in flight may take before it stops anyway [default: 10s]' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -l cert -d 'A certificate (PEM, with its chain) to serve for one of the app\'s hostnames instead of one from the local CA' -r -F
complete -c ltc -n "__fish_ltc_using_subcommand create" -l key -d 'The private key of --cert (PEM)' -r -F
complete -c ltc -n "__fish_ltc_using_subcommand create" -l cert-host -d 'The hostname --cert is for [default: the app\'s first HTTP route]' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -s t -l timeout -d 'How long to wait for every instance to run (2m, 90s, ...)' -r
complete -c ltc -n "__fish_ltc_using_subcommand create" -l privileged -d 'Run privileged (the app can break out of its container)'
complete -c ltc -n "__fish_ltc_using_subcommand create" -l no-routes -d 'No routes [update: removes every route]'
complete -c ltc -n "__fish_ltc_using_subcommand create" -l no-monitor -d 'No check: an instance is running as soon as its process runs'
complete -c ltc -n "__fish_ltc_using_subcommand create" -l redirect-https -d 'Answer plain HTTP requests with a redirect to the HTTPS URL'
complete -c ltc -n "__fish_ltc_using_subcommand create" -l wait -d 'Wait until the change is done (the default)'
complete -c ltc -n "__fish_ltc_using_subcommand create" -l no-wait -d 'Return as soon as the node has accepted the change'
complete -c ltc -n "__fish_ltc_using_subcommand create" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand create" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand create" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand create" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand scale" -s t -l timeout -d 'How long to wait for the app to reach that number' -r
complete -c ltc -n "__fish_ltc_using_subcommand scale" -l wait -d 'Wait until the change is done (the default)'
complete -c ltc -n "__fish_ltc_using_subcommand scale" -l no-wait -d 'Return as soon as the node has accepted the change'
complete -c ltc -n "__fish_ltc_using_subcommand scale" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand scale" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand scale" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand scale" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand update" -l image -d 'A new image (a path starting with `.` or `/` is a directory to build)' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l path -d 'Build the image from this directory\'s Dockerfile (honouring .dockerignore)' -r -f -a "(__fish_complete_directories)"
complete -c ltc -n "__fish_ltc_using_subcommand update" -l dockerfile -d 'The Dockerfile to build, relative to the directory [default: Dockerfile]' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l build-arg -d 'A build argument NAME=VALUE (a bare NAME copies your environment\'s value)' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -s e -l env -d 'Set or replace an environment variable NAME=VALUE (a bare NAME copies your value)' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l unset-env -d 'Remove an environment variable' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l env-file -d 'Set environment variables from a file, as `docker run --env-file` reads it' -r -F
complete -c ltc -n "__fish_ltc_using_subcommand update" -l volume -d 'Mount a named volume or a directory at PATH (replacing what is mounted there)' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -s p -l ports -d 'New ports the app listens on, comma separated' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -s m -l memory-mb -d 'Memory limit per instance in MB (0 = unlimited)' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -s d -l disk-mb -d 'Disk limit per instance in MB (recorded)' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -s c -l cpu-weight -d 'Relative CPU weight, 1 to 100' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l pids-limit -d 'Most processes and threads per instance (0 = unlimited)' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -s w -l working-dir -d 'Working directory' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -s u -l user -d 'User to run as' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -s R -l http-route -d 'HTTP route HOST[:PORT]; a HOST without a dot gets .<domain> [create: replaces the default routes]' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -s T -l tcp-route -d 'TCP route EXTERNAL[:PORT], opened on the router\'s address' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l add-route -d 'Add one HTTP route HOST[:PORT], keeping the others' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l remove-route -d 'Remove one HTTP route, keeping the others' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -s M -l monitor-port -d 'Check that this port listens' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -s U -l monitor-url -d 'Check that GET PORT:/PATH answers 200' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l monitor-command -d 'Check that `/bin/sh -c COMMAND` exits 0 inside the instance' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l monitor-timeout -d 'How long one check may take' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l start-timeout -d 'How long a new instance may take to pass its first check before it counts as a crash' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l response-timeout -d 'How long an instance may take to start its response before the router answers 504 [default: 15m]' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l drain-timeout -d 'How long a stopping instance\'s requests in flight may take before it stops anyway [default: 10s]' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l cert -d 'A certificate (PEM, with its chain) to serve for one of the app\'s hostnames instead of one from the local CA' -r -F
complete -c ltc -n "__fish_ltc_using_subcommand update" -l key -d 'The private key of --cert (PEM)' -r -F
complete -c ltc -n "__fish_ltc_using_subcommand update" -l cert-host -d 'The hostname --cert is for [default: the app\'s first HTTP route]' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l remove-cert -d 'Serve the local CA\'s certificate again for this hostname instead of the one given' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l max-surge -d 'Extra new instances started at once (the app never has fewer healthy instances)' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l health-timeout -d 'How long a new instance may take to become healthy before the rollout is undone' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -s t -l timeout -d 'How long to wait for the rollout' -r
complete -c ltc -n "__fish_ltc_using_subcommand update" -l no-routes -d 'No routes [update: removes every route]'
complete -c ltc -n "__fish_ltc_using_subcommand update" -l no-monitor -d 'No check: an instance is running as soon as its process runs'
complete -c ltc -n "__fish_ltc_using_subcommand update" -l redirect-https -d 'Answer plain HTTP requests with a redirect to the HTTPS URL'
complete -c ltc -n "__fish_ltc_using_subcommand update" -l no-redirect-https -d 'Serve plain HTTP again instead of redirecting it to HTTPS'
complete -c ltc -n "__fish_ltc_using_subcommand update" -l wait -d 'Wait until the change is done (the default)'
complete -c ltc -n "__fish_ltc_using_subcommand update" -l no-wait -d 'Return as soon as the node has accepted the change'
complete -c ltc -n "__fish_ltc_using_subcommand update" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand update" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand update" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand update" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand rollback" -l to -d 'The revision to go back to [default: the one before the current]' -r
complete -c ltc -n "__fish_ltc_using_subcommand rollback" -l max-surge -d 'Extra new instances started at once (the app never has fewer healthy instances)' -r
complete -c ltc -n "__fish_ltc_using_subcommand rollback" -l health-timeout -d 'How long a new instance may take to become healthy before the rollout is undone' -r
complete -c ltc -n "__fish_ltc_using_subcommand rollback" -s t -l timeout -d 'How long to wait for the rollout' -r
complete -c ltc -n "__fish_ltc_using_subcommand rollback" -l wait -d 'Wait until the change is done (the default)'
complete -c ltc -n "__fish_ltc_using_subcommand rollback" -l no-wait -d 'Return as soon as the node has accepted the change'
complete -c ltc -n "__fish_ltc_using_subcommand rollback" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand rollback" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand rollback" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand rollback" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand restart" -l index -d 'Only this instance' -r
complete -c ltc -n "__fish_ltc_using_subcommand restart" -l max-surge -d 'Extra new instances started at once (the app never has fewer healthy instances)' -r
complete -c ltc -n "__fish_ltc_using_subcommand restart" -l health-timeout -d 'How long a new instance may take to become healthy before the rollout is undone' -r
complete -c ltc -n "__fish_ltc_using_subcommand restart" -s t -l timeout -d 'How long to wait for the restart' -r
complete -c ltc -n "__fish_ltc_using_subcommand restart" -l wait -d 'Wait until the change is done (the default)'
complete -c ltc -n "__fish_ltc_using_subcommand restart" -l no-wait -d 'Return as soon as the node has accepted the change'
complete -c ltc -n "__fish_ltc_using_subcommand restart" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand restart" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand restart" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand restart" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand history" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand history" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand history" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand history" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand remove" -s t -l timeout -d 'How long to wait for each app\'s instances to stop' -r
complete -c ltc -n "__fish_ltc_using_subcommand remove" -l volumes -d 'Remove their named volumes too (those no other app mounts); kept otherwise'
complete -c ltc -n "__fish_ltc_using_subcommand remove" -l wait -d 'Wait until the change is done (the default)'
complete -c ltc -n "__fish_ltc_using_subcommand remove" -l no-wait -d 'Return as soon as the node has accepted the change'
complete -c ltc -n "__fish_ltc_using_subcommand remove" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand remove" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand remove" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand remove" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand ssh" -s i -l index -d 'The instance' -r
complete -c ltc -n "__fish_ltc_using_subcommand ssh" -s L -d 'Forward [BIND:]LOCAL_PORT to INSTANCE_PORT of the instance (one of the app\'s ports)' -r
complete -c ltc -n "__fish_ltc_using_subcommand ssh" -s N -d 'Forward ports only: run no command (with -L)'
complete -c ltc -n "__fish_ltc_using_subcommand ssh" -s t -d 'Give the command a terminal even when ltc\'s input is not one'
complete -c ltc -n "__fish_ltc_using_subcommand ssh" -s T -d 'No terminal: stdin, stdout and stderr pass through as plain streams'
complete -c ltc -n "__fish_ltc_using_subcommand ssh" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand ssh" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand ssh" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand ssh" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand volumes" -l remove -d 'Remove this named volume (no app may mount it)' -r
complete -c ltc -n "__fish_ltc_using_subcommand volumes" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand volumes" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand volumes" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand volumes" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand run" -s e -l env -d 'Set an environment variable NAME=VALUE over the app\'s (a bare NAME copies yours)' -r
complete -c ltc -n "__fish_ltc_using_subcommand run" -s d -l detach -d 'Print the task\'s guid and return; `ltc logs GUID` and `ltc task GUID` follow it'
complete -c ltc -n "__fish_ltc_using_subcommand run" -s t -d 'Give the command a terminal even when ltc\'s input or output is not one'
complete -c ltc -n "__fish_ltc_using_subcommand run" -s T -d 'No terminal: stdin, stdout and stderr pass through as plain streams'
complete -c ltc -n "__fish_ltc_using_subcommand run" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand run" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ltc -n "__fish_ltc_using_subcommand run" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand submit-task" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand submit-task" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand submit-task" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand submit-task" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand task" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand task" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand task" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand task" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand cancel-task" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand cancel-task" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand cancel-task" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand cancel-task" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand delete-task" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand delete-task" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand delete-task" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand delete-task" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand list" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand list" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand list" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand list" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand status" -s r -l rate -d 'Redraw every DURATION until Ctrl-C (needs a terminal)' -r
complete -c ltc -n "__fish_ltc_using_subcommand status" -s d -l detailed -d 'One block per instance: guid, container, ports, crashes, next restart, CPU, memory'
complete -c ltc -n "__fish_ltc_using_subcommand status" -l show-env -d 'Show environment values (only names are shown otherwise; `--json` always has both)'
complete -c ltc -n "__fish_ltc_using_subcommand status" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand status" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand status" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand status" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand cells" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand cells" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand cells" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand cells" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand ca" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand ca" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand ca" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand ca" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand visualize" -s r -l rate -d 'Redraw every DURATION until Ctrl-C (needs a terminal)' -r
complete -c ltc -n "__fish_ltc_using_subcommand visualize" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand visualize" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand visualize" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand visualize" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand logs" -l tail -d 'Start with the last N lines kept so far' -r
complete -c ltc -n "__fish_ltc_using_subcommand logs" -l index -d 'Only the lines of this instance' -r
complete -c ltc -n "__fish_ltc_using_subcommand logs" -l recent -d 'Print the lines kept so far and exit, instead of following'
complete -c ltc -n "__fish_ltc_using_subcommand logs" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand logs" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand logs" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand logs" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand debug-logs" -l raw -d 'Plain lines, without colour'
complete -c ltc -n "__fish_ltc_using_subcommand debug-logs" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand debug-logs" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand debug-logs" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand debug-logs" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand events" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand events" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand events" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand events" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand test" -s t -l timeout -d 'How long the whole test may take' -r
complete -c ltc -n "__fish_ltc_using_subcommand test" -s v -l verbose -d 'Say what each step is waiting for'
complete -c ltc -n "__fish_ltc_using_subcommand test" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand test" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand test" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand test" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand version" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand version" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand version" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand version" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and not __fish_seen_subcommand_from run start restart stop status install uninstall" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and not __fish_seen_subcommand_from run start restart stop status install uninstall" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and not __fish_seen_subcommand_from run start restart stop status install uninstall" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and not __fish_seen_subcommand_from run start restart stop status install uninstall" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and not __fish_seen_subcommand_from run start restart stop status install uninstall" -f -a "run" -d 'Run the node in the foreground (for systemd and the like)'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and not __fish_seen_subcommand_from run start restart stop status install uninstall" -f -a "start" -d 'Start the node in the background, unless it already runs'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and not __fish_seen_subcommand_from run start restart stop status install uninstall" -f -a "restart" -d 'Replace the running node with a new one (e.g. after an upgrade) without refusing a connection: the new node takes the router\'s sockets over before the old one stops'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and not __fish_seen_subcommand_from run start restart stop status install uninstall" -f -a "stop" -d 'Stop the node: apps keep running, but routing stops until a node runs again'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and not __fish_seen_subcommand_from run start restart stop status install uninstall" -f -a "status" -d 'Say whether the node runs'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and not __fish_seen_subcommand_from run start restart stop status install uninstall" -f -a "install" -d 'Run the node as a systemd service: at boot (or login), restarted when it exits'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and not __fish_seen_subcommand_from run start restart stop status install uninstall" -f -a "uninstall" -d 'Remove the systemd service (its node stops, and with it routing)'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from run" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from run" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from run" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from run" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from start" -s t -l timeout -d 'How long to wait for the node to answer' -r
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from start" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from start" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from start" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from restart" -s t -l timeout -d 'How long to wait for the new node to answer' -r
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from restart" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from restart" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from restart" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from restart" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s t -l timeout -d 'How long to wait for the node to exit' -r
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from stop" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from stop" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from status" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from install" -l system -d 'A system unit (/etc/systemd/system) rather than this user\'s'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from install" -l print -d 'Print the unit instead of installing it'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from install" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from install" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from install" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from install" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -l system -d 'The system unit rather than this user\'s'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand daemon; and __fish_seen_subcommand_from uninstall" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand completions" -l install -d 'Install the script where the shell looks for it, and the man pages where `man` does, for this user (bash, zsh and fish)'
complete -c ltc -n "__fish_ltc_using_subcommand completions" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand completions" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand completions" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand completions" -s V -l version -d 'Print version'
complete -c ltc -n "__fish_ltc_using_subcommand help" -l json -d 'Print results as JSON on stdout, and errors as one JSON object on stderr'
complete -c ltc -n "__fish_ltc_using_subcommand help" -s q -l quiet -d 'Print nothing but results and errors (no progress, notes or warnings)'
complete -c ltc -n "__fish_ltc_using_subcommand help" -s h -l help -d 'Print help'
complete -c ltc -n "__fish_ltc_using_subcommand help" -s V -l version -d 'Print version'
