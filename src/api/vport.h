/* SPDX-License-Identifier: MIT */
/* vport.h: the API over a virtio-serial port (`berth vm --api PATH`: QEMU
 * puts the host's Unix socket PATH on the guest's port named org.berth.api;
 * the host has no vhost-vsock). A port is one byte stream with no
 * connections, so a thread of berthd relays it: bytes from the host open a
 * connection to the API socket and go there, the answer goes back, and the
 * connection ends when berthd closes it (one request each: the CLI sends
 * Connection: close) or the host side disconnects. The peer berthd sees is
 * berthd itself (root): who may use the port is decided on the host, by the
 * socket's permissions. */
#pragma once

#include <stdbool.h>

#define VPORT_NAME "org.berth.api"

/* true if the machine has a virtio console device (virtio device id 3): only
 * then can a port appear once its driver is loaded. */
bool vport_device_present(const char *sys_bus_virtio);

/* Starts the relay thread: it waits up to wait_s seconds for the port named
 * name to appear under sys_class (/sys/class/virtio-ports), then relays it to
 * socket_path for as long as the process lives. */
int vport_relay_start(const char *sys_class, const char *name, unsigned wait_s,
                      const char *socket_path);

/* true from vport_relay_start() until the relay thread gave up (no port
 * appeared in time, or it could not be opened). */
bool vport_relay_running(void);

/* true while the relay holds a connection to the API (a request or its answer
 * on the way). */
bool vport_relay_busy(void);
