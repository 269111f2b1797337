
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'ltc' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'ltc'
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
        'ltc' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('target', 'target', [CompletionResultType]::ParameterValue, 'Show or set the system domain apps are routed under')
            [CompletionResult]::new('create', 'create', [CompletionResultType]::ParameterValue, 'Create an app from a Docker image (the built-in lattice-app when none is named)')
            [CompletionResult]::new('scale', 'scale', [CompletionResultType]::ParameterValue, 'Change the number of instances of an app (0 stops it)')
            [CompletionResult]::new('update', 'update', [CompletionResultType]::ParameterValue, 'Change a running app without downtime: a new revision rolled out instance by instance (image, environment, command, limits, monitor), or its routes, live')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Roll an app back to its previous revision (or `--to N`), instance by instance')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Replace an app''s instances with new ones of the same revision, one at a time')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'List an app''s revisions: number, time, what changed, image, outcome')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove apps and their instances')
            [CompletionResult]::new('ssh', 'ssh', [CompletionResultType]::ParameterValue, 'A shell or a command in an instance, or a local port forwarded to it')
            [CompletionResult]::new('volumes', 'volumes', [CompletionResultType]::ParameterValue, 'List the named volumes: size and the apps that mount them')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a one-off command with an app''s image, environment and limits (not routed)')
            [CompletionResult]::new('submit-task', 'submit-task', [CompletionResultType]::ParameterValue, 'Submit a one-off task from a Lattice task JSON file')
            [CompletionResult]::new('task', 'task', [CompletionResultType]::ParameterValue, 'Show a task (or every task)')
            [CompletionResult]::new('cancel-task', 'cancel-task', [CompletionResultType]::ParameterValue, 'Stop a pending or running task')
            [CompletionResult]::new('delete-task', 'delete-task', [CompletionResultType]::ParameterValue, 'Cancel a task if it still runs, and forget it')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the apps')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show an app''s settings and its instances')
            [CompletionResult]::new('cells', 'cells', [CompletionResultType]::ParameterValue, 'Show this machine as Lattice showed a cell: memory, CPUs, instances')
            [CompletionResult]::new('ca', 'ca', [CompletionResultType]::ParameterValue, 'Show the local certificate authority HTTPS uses, and how to trust it')
            [CompletionResult]::new('visualize', 'visualize', [CompletionResultType]::ParameterValue, 'Show where instances run: a dot per instance, green running, yellow starting')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Stream an app''s logs: every instance, its lifecycle, health checks and router lines')
            [CompletionResult]::new('debug-logs', 'debug-logs', [CompletionResultType]::ParameterValue, 'Stream the node''s own log')
            [CompletionResult]::new('events', 'events', [CompletionResultType]::ParameterValue, 'Stream lifecycle events (app created, instance crashed, route added, ...)')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run Lattice''s integration test against this machine: create, route, logs, scale, TCP, remove')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'Show the versions of ltc, its node and the Docker engine')
            [CompletionResult]::new('daemon', 'daemon', [CompletionResultType]::ParameterValue, 'Run, start, stop or check the node that keeps apps converged')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the completion script for a shell (bash, zsh, fish, powershell, elvish)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Show the commands by topic, or one command''s help')
            break
        }
        'ltc;target' {
            [CompletionResult]::new('--engine', '--engine', [CompletionResultType]::ParameterName, 'The engine to drive: `docker` (one machine) or `swarm` (every machine of the Docker Swarm whose manager DOCKER_HOST names). Only with no apps; the node restarts on it')
            [CompletionResult]::new('--registry', '--registry', [CompletionResultType]::ParameterName, 'The registry (HOST:PORT) that carries local and built images to a swarm''s machines; "" for none (instances then stay on the manager''s machine)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;create' {
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Build the image from this directory''s Dockerfile (honouring .dockerignore)')
            [CompletionResult]::new('--dockerfile', '--dockerfile', [CompletionResultType]::ParameterName, 'The Dockerfile to build, relative to the directory [default: Dockerfile]')
            [CompletionResult]::new('--build-arg', '--build-arg', [CompletionResultType]::ParameterName, 'A build argument NAME=VALUE (a bare NAME copies your environment''s value)')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Environment variables from a file, as `docker run --env-file` reads it (`-e` wins)')
            [CompletionResult]::new('--volume', '--volume', [CompletionResultType]::ParameterName, 'Mount a named volume (kept across restarts, shared by the instances) or a directory of this machine: NAME:/PATH[:ro] or /HOST/DIR:/PATH[:ro]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Number of instances')
            [CompletionResult]::new('--instances', '--instances', [CompletionResultType]::ParameterName, 'Number of instances')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Ports the app listens on, comma separated [default: the image''s EXPOSE, else 8080]')
            [CompletionResult]::new('--ports', '--ports', [CompletionResultType]::ParameterName, 'Ports the app listens on, comma separated [default: the image''s EXPOSE, else 8080]')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Environment variable NAME=VALUE; a bare NAME copies its value from your environment')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Environment variable NAME=VALUE; a bare NAME copies its value from your environment')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Memory limit per instance in MB (0 = unlimited)')
            [CompletionResult]::new('--memory-mb', '--memory-mb', [CompletionResultType]::ParameterName, 'Memory limit per instance in MB (0 = unlimited)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Disk limit per instance in MB (0 = unlimited; recorded, as Lattice did not enforce it)')
            [CompletionResult]::new('--disk-mb', '--disk-mb', [CompletionResultType]::ParameterName, 'Disk limit per instance in MB (0 = unlimited; recorded, as Lattice did not enforce it)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Relative CPU weight, 1 to 100')
            [CompletionResult]::new('--cpu-weight', '--cpu-weight', [CompletionResultType]::ParameterName, 'Relative CPU weight, 1 to 100')
            [CompletionResult]::new('--pids-limit', '--pids-limit', [CompletionResultType]::ParameterName, 'Most processes and threads per instance (0 = unlimited), so a fork bomb stays inside')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Working directory [default: the image''s WORKDIR, else /]')
            [CompletionResult]::new('--working-dir', '--working-dir', [CompletionResultType]::ParameterName, 'Working directory [default: the image''s WORKDIR, else /]')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User to run as [default: the image''s USER, else root]')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'User to run as [default: the image''s USER, else root]')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'HTTP route HOST[:PORT]; a HOST without a dot gets .<domain> [create: replaces the default routes]')
            [CompletionResult]::new('--http-route', '--http-route', [CompletionResultType]::ParameterName, 'HTTP route HOST[:PORT]; a HOST without a dot gets .<domain> [create: replaces the default routes]')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'TCP route EXTERNAL[:PORT], opened on the router''s address')
            [CompletionResult]::new('--tcp-route', '--tcp-route', [CompletionResultType]::ParameterName, 'TCP route EXTERNAL[:PORT], opened on the router''s address')
            [CompletionResult]::new('-M', '-M ', [CompletionResultType]::ParameterName, 'Check that this port listens [default: the lowest port]')
            [CompletionResult]::new('--monitor-port', '--monitor-port', [CompletionResultType]::ParameterName, 'Check that this port listens [default: the lowest port]')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Check that GET PORT:/PATH answers 200')
            [CompletionResult]::new('--monitor-url', '--monitor-url', [CompletionResultType]::ParameterName, 'Check that GET PORT:/PATH answers 200')
            [CompletionResult]::new('--monitor-command', '--monitor-command', [CompletionResultType]::ParameterName, 'Check that `/bin/sh -c COMMAND` exits 0 inside the instance')
            [CompletionResult]::new('--monitor-timeout', '--monitor-timeout', [CompletionResultType]::ParameterName, 'How long one check may take')
            [CompletionResult]::new('--start-timeout', '--start-timeout', [CompletionResultType]::ParameterName, 'How long a new instance may take to pass its first check before its start counts as a crash (and is retried with the crash backoff)')
            [CompletionResult]::new('--response-timeout', '--response-timeout', [CompletionResultType]::ParameterName, 'How long an instance may take to start its response before the router answers 504 [default: 15m]')
            [CompletionResult]::new('--drain-timeout', '--drain-timeout', [CompletionResultType]::ParameterName, 'How long a stopping instance''s requests in flight may take before it stops anyway [default: 10s]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'A certificate (PEM, with its chain) to serve for one of the app''s hostnames instead of one from the local CA')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The private key of --cert (PEM)')
            [CompletionResult]::new('--cert-host', '--cert-host', [CompletionResultType]::ParameterName, 'The hostname --cert is for [default: the app''s first HTTP route]')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'How long to wait for every instance to run (2m, 90s, ...)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for every instance to run (2m, 90s, ...)')
            [CompletionResult]::new('--privileged', '--privileged', [CompletionResultType]::ParameterName, 'Run privileged (the app can break out of its container)')
            [CompletionResult]::new('--no-routes', '--no-routes', [CompletionResultType]::ParameterName, 'No routes [update: removes every route]')
            [CompletionResult]::new('--no-monitor', '--no-monitor', [CompletionResultType]::ParameterName, 'No check: an instance is running as soon as its process runs')
            [CompletionResult]::new('--redirect-https', '--redirect-https', [CompletionResultType]::ParameterName, 'Answer plain HTTP requests with a redirect to the HTTPS URL')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until the change is done (the default)')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Return as soon as the node has accepted the change')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;scale' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'How long to wait for the app to reach that number')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the app to reach that number')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until the change is done (the default)')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Return as soon as the node has accepted the change')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;update' {
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'A new image (a path starting with `.` or `/` is a directory to build)')
            [CompletionResult]::new('--path', '--path', [CompletionResultType]::ParameterName, 'Build the image from this directory''s Dockerfile (honouring .dockerignore)')
            [CompletionResult]::new('--dockerfile', '--dockerfile', [CompletionResultType]::ParameterName, 'The Dockerfile to build, relative to the directory [default: Dockerfile]')
            [CompletionResult]::new('--build-arg', '--build-arg', [CompletionResultType]::ParameterName, 'A build argument NAME=VALUE (a bare NAME copies your environment''s value)')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Set or replace an environment variable NAME=VALUE (a bare NAME copies your value)')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Set or replace an environment variable NAME=VALUE (a bare NAME copies your value)')
            [CompletionResult]::new('--unset-env', '--unset-env', [CompletionResultType]::ParameterName, 'Remove an environment variable')
            [CompletionResult]::new('--env-file', '--env-file', [CompletionResultType]::ParameterName, 'Set environment variables from a file, as `docker run --env-file` reads it')
            [CompletionResult]::new('--volume', '--volume', [CompletionResultType]::ParameterName, 'Mount a named volume or a directory at PATH (replacing what is mounted there)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'New ports the app listens on, comma separated')
            [CompletionResult]::new('--ports', '--ports', [CompletionResultType]::ParameterName, 'New ports the app listens on, comma separated')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Memory limit per instance in MB (0 = unlimited)')
            [CompletionResult]::new('--memory-mb', '--memory-mb', [CompletionResultType]::ParameterName, 'Memory limit per instance in MB (0 = unlimited)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Disk limit per instance in MB (recorded)')
            [CompletionResult]::new('--disk-mb', '--disk-mb', [CompletionResultType]::ParameterName, 'Disk limit per instance in MB (recorded)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Relative CPU weight, 1 to 100')
            [CompletionResult]::new('--cpu-weight', '--cpu-weight', [CompletionResultType]::ParameterName, 'Relative CPU weight, 1 to 100')
            [CompletionResult]::new('--pids-limit', '--pids-limit', [CompletionResultType]::ParameterName, 'Most processes and threads per instance (0 = unlimited)')
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Working directory')
            [CompletionResult]::new('--working-dir', '--working-dir', [CompletionResultType]::ParameterName, 'Working directory')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User to run as')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'User to run as')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'HTTP route HOST[:PORT]; a HOST without a dot gets .<domain> [create: replaces the default routes]')
            [CompletionResult]::new('--http-route', '--http-route', [CompletionResultType]::ParameterName, 'HTTP route HOST[:PORT]; a HOST without a dot gets .<domain> [create: replaces the default routes]')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'TCP route EXTERNAL[:PORT], opened on the router''s address')
            [CompletionResult]::new('--tcp-route', '--tcp-route', [CompletionResultType]::ParameterName, 'TCP route EXTERNAL[:PORT], opened on the router''s address')
            [CompletionResult]::new('--add-route', '--add-route', [CompletionResultType]::ParameterName, 'Add one HTTP route HOST[:PORT], keeping the others')
            [CompletionResult]::new('--remove-route', '--remove-route', [CompletionResultType]::ParameterName, 'Remove one HTTP route, keeping the others')
            [CompletionResult]::new('-M', '-M ', [CompletionResultType]::ParameterName, 'Check that this port listens')
            [CompletionResult]::new('--monitor-port', '--monitor-port', [CompletionResultType]::ParameterName, 'Check that this port listens')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Check that GET PORT:/PATH answers 200')
            [CompletionResult]::new('--monitor-url', '--monitor-url', [CompletionResultType]::ParameterName, 'Check that GET PORT:/PATH answers 200')
            [CompletionResult]::new('--monitor-command', '--monitor-command', [CompletionResultType]::ParameterName, 'Check that `/bin/sh -c COMMAND` exits 0 inside the instance')
            [CompletionResult]::new('--monitor-timeout', '--monitor-timeout', [CompletionResultType]::ParameterName, 'How long one check may take')
            [CompletionResult]::new('--start-timeout', '--start-timeout', [CompletionResultType]::ParameterName, 'How long a new instance may take to pass its first check before it counts as a crash')
            [CompletionResult]::new('--response-timeout', '--response-timeout', [CompletionResultType]::ParameterName, 'How long an instance may take to start its response before the router answers 504 [default: 15m]')
            [CompletionResult]::new('--drain-timeout', '--drain-timeout', [CompletionResultType]::ParameterName, 'How long a stopping instance''s requests in flight may take before it stops anyway [default: 10s]')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'A certificate (PEM, with its chain) to serve for one of the app''s hostnames instead of one from the local CA')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The private key of --cert (PEM)')
            [CompletionResult]::new('--cert-host', '--cert-host', [CompletionResultType]::ParameterName, 'The hostname --cert is for [default: the app''s first HTTP route]')
            [CompletionResult]::new('--remove-cert', '--remove-cert', [CompletionResultType]::ParameterName, 'Serve the local CA''s certificate again for this hostname instead of the one given')
            [CompletionResult]::new('--max-surge', '--max-surge', [CompletionResultType]::ParameterName, 'Extra new instances started at once (the app never has fewer healthy instances)')
            [CompletionResult]::new('--health-timeout', '--health-timeout', [CompletionResultType]::ParameterName, 'How long a new instance may take to become healthy before the rollout is undone')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'How long to wait for the rollout')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the rollout')
            [CompletionResult]::new('--no-routes', '--no-routes', [CompletionResultType]::ParameterName, 'No routes [update: removes every route]')
            [CompletionResult]::new('--no-monitor', '--no-monitor', [CompletionResultType]::ParameterName, 'No check: an instance is running as soon as its process runs')
            [CompletionResult]::new('--redirect-https', '--redirect-https', [CompletionResultType]::ParameterName, 'Answer plain HTTP requests with a redirect to the HTTPS URL')
            [CompletionResult]::new('--no-redirect-https', '--no-redirect-https', [CompletionResultType]::ParameterName, 'Serve plain HTTP again instead of redirecting it to HTTPS')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until the change is done (the default)')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Return as soon as the node has accepted the change')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;rollback' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The revision to go back to [default: the one before the current]')
            [CompletionResult]::new('--max-surge', '--max-surge', [CompletionResultType]::ParameterName, 'Extra new instances started at once (the app never has fewer healthy instances)')
            [CompletionResult]::new('--health-timeout', '--health-timeout', [CompletionResultType]::ParameterName, 'How long a new instance may take to become healthy before the rollout is undone')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'How long to wait for the rollout')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the rollout')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until the change is done (the default)')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Return as soon as the node has accepted the change')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;restart' {
            [CompletionResult]::new('--index', '--index', [CompletionResultType]::ParameterName, 'Only this instance')
            [CompletionResult]::new('--max-surge', '--max-surge', [CompletionResultType]::ParameterName, 'Extra new instances started at once (the app never has fewer healthy instances)')
            [CompletionResult]::new('--health-timeout', '--health-timeout', [CompletionResultType]::ParameterName, 'How long a new instance may take to become healthy before the rollout is undone')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'How long to wait for the restart')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the restart')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until the change is done (the default)')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Return as soon as the node has accepted the change')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;history' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;remove' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'How long to wait for each app''s instances to stop')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for each app''s instances to stop')
            [CompletionResult]::new('--volumes', '--volumes', [CompletionResultType]::ParameterName, 'Remove their named volumes too (those no other app mounts); kept otherwise')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait until the change is done (the default)')
            [CompletionResult]::new('--no-wait', '--no-wait', [CompletionResultType]::ParameterName, 'Return as soon as the node has accepted the change')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;ssh' {
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'The instance')
            [CompletionResult]::new('--index', '--index', [CompletionResultType]::ParameterName, 'The instance')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Forward [BIND:]LOCAL_PORT to INSTANCE_PORT of the instance (one of the app''s ports)')
            [CompletionResult]::new('-N', '-N ', [CompletionResultType]::ParameterName, 'Forward ports only: run no command (with -L)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Give the command a terminal even when ltc''s input is not one')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'No terminal: stdin, stdout and stderr pass through as plain streams')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;volumes' {
            [CompletionResult]::new('--remove', '--remove', [CompletionResultType]::ParameterName, 'Remove this named volume (no app may mount it)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;run' {
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Set an environment variable NAME=VALUE over the app''s (a bare NAME copies yours)')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Set an environment variable NAME=VALUE over the app''s (a bare NAME copies yours)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Print the task''s guid and return; `ltc logs GUID` and `ltc task GUID` follow it')
            [CompletionResult]::new('--detach', '--detach', [CompletionResultType]::ParameterName, 'Print the task''s guid and return; `ltc logs GUID` and `ltc task GUID` follow it')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Give the command a terminal even when ltc''s input or output is not one')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'No terminal: stdin, stdout and stderr pass through as plain streams')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;submit-task' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;task' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;cancel-task' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;delete-task' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;list' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;status' {
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Redraw every DURATION until Ctrl-C (needs a terminal)')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Redraw every DURATION until Ctrl-C (needs a terminal)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'One block per instance: guid, container, ports, crashes, next restart, CPU, memory')
            [CompletionResult]::new('--detailed', '--detailed', [CompletionResultType]::ParameterName, 'One block per instance: guid, container, ports, crashes, next restart, CPU, memory')
            [CompletionResult]::new('--show-env', '--show-env', [CompletionResultType]::ParameterName, 'Show environment values (only names are shown otherwise; `--json` always has both)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;cells' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;ca' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;visualize' {
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Redraw every DURATION until Ctrl-C (needs a terminal)')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Redraw every DURATION until Ctrl-C (needs a terminal)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;logs' {
            [CompletionResult]::new('--tail', '--tail', [CompletionResultType]::ParameterName, 'Start with the last N lines kept so far')
            [CompletionResult]::new('--index', '--index', [CompletionResultType]::ParameterName, 'Only the lines of this instance')
            [CompletionResult]::new('--recent', '--recent', [CompletionResultType]::ParameterName, 'Print the lines kept so far and exit, instead of following')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;debug-logs' {
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'Plain lines, without colour')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;events' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;test' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'How long the whole test may take')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long the whole test may take')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say what each step is waiting for')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say what each step is waiting for')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;version' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;daemon' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run the node in the foreground (for systemd and the like)')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the node in the background, unless it already runs')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Replace the running node with a new one (e.g. after an upgrade) without refusing a connection: the new node takes the router''s sockets over before the old one stops')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the node: apps keep running, but routing stops until a node runs again')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Say whether the node runs')
            [CompletionResult]::new('install', 'install', [CompletionResultType]::ParameterValue, 'Run the node as a systemd service: at boot (or login), restarted when it exits')
            [CompletionResult]::new('uninstall', 'uninstall', [CompletionResultType]::ParameterValue, 'Remove the systemd service (its node stops, and with it routing)')
            break
        }
        'ltc;daemon;run' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;daemon;start' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'How long to wait for the node to answer')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the node to answer')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;daemon;restart' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'How long to wait for the new node to answer')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the new node to answer')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;daemon;stop' {
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'How long to wait for the node to exit')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the node to exit')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;daemon;status' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;daemon;install' {
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'A system unit (/etc/systemd/system) rather than this user''s')
            [CompletionResult]::new('--print', '--print', [CompletionResultType]::ParameterName, 'Print the unit instead of installing it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;daemon;uninstall' {
            [CompletionResult]::new('--system', '--system', [CompletionResultType]::ParameterName, 'The system unit rather than this user''s')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;completions' {
            [CompletionResult]::new('--install', '--install', [CompletionResultType]::ParameterName, 'Install the script where the shell looks for it, and the man pages where `man` does, for this user (bash, zsh and fish)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'ltc;help' {
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print results as JSON on stdout, and errors as one JSON object on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but results and errors (no progress, notes or warnings)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
