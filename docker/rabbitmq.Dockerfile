# chaos-rabbitmq:local: Debian bookworm's RabbitMQ (3.10), a stand-in for the official
# `rabbitmq:3` image as far as a client sees: AMQP on 5672 on all interfaces, guest/guest
# allowed from any address, data in the /var/lib/rabbitmq volume, node rabbit@<hostname>,
# logs on stdout, no plugins.
#
# PID 1 is /usr/lib/rabbitmq/bin/rabbitmq-server (not the /usr/sbin wrapper, which sends the
# logs to /var/log/rabbitmq/startup_log when run as rabbitmq): a shell that runs the Erlang VM
# as its child and turns SIGTERM into a clean stop, so `docker stop` is a clean shutdown and
# `docker kill` a crash. It runs as the rabbitmq user with HOME=/var/lib/rabbitmq, so
# `docker exec <c> rabbitmqctl ...` (as rabbitmq, or as root through the /usr/sbin wrappers,
# which switch to rabbitmq) reads the same Erlang cookie.
#
# Built by scripts/build-images.sh, without a build context (the Dockerfile comes on stdin).

ARG BASE_IMAGE=chaos-base:bookworm
FROM ${BASE_IMAGE}
# (removable by build-images.sh when left untagged, see docker/Dockerfile)
LABEL io.chaos.stage=rabbitmq

# policy-rc.d: no service starts during the install (there is no init in a container).
# The cookie and mnesia are removed: every container makes its own on first boot.
RUN set -eux; \
    export DEBIAN_FRONTEND=noninteractive; \
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; \
    chmod +x /usr/sbin/policy-rc.d; \
    apt-get update; \
    apt-get install -y --no-install-recommends rabbitmq-server; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d; \
    rm -rf /var/lib/rabbitmq/.erlang.cookie /var/lib/rabbitmq/mnesia /var/log/rabbitmq/*

# What rabbitmq:3 does for a client: guest from any address, AMQP on all interfaces, logs on
# stdout (plain text, no colours; only the upgrade log is a file). No plugins: a fast boot.
RUN set -eux; \
    printf '%s\n' \
        'loopback_users = none' \
        'listeners.tcp.default = 5672' \
        'log.console = true' \
        'log.console.level = info' \
        'log.console.use_colors = off' \
        'log.file = false' \
        > /etc/rabbitmq/rabbitmq.conf; \
    echo '[].' > /etc/rabbitmq/enabled_plugins; \
    chown rabbitmq:rabbitmq /etc/rabbitmq/enabled_plugins /var/lib/rabbitmq; \
    chmod 750 /var/lib/rabbitmq

ENV HOME=/var/lib/rabbitmq \
    LANG=C.UTF-8
USER rabbitmq
WORKDIR /var/lib/rabbitmq
VOLUME /var/lib/rabbitmq
EXPOSE 5672
CMD ["/usr/lib/rabbitmq/bin/rabbitmq-server"]
