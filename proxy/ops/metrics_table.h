/* metrics_table.h - the families of /metrics (metrics.c includes it where its emitters are). */
#ifndef GP_METRICS_TABLE_H
#define GP_METRICS_TABLE_H

/*
 * X(name, type, help, emitter, per-backend value): every family, in output order.
 * A family with a per-backend value function uses the generic per-backend gauge emitter.
 */
#define GP_METRICS_TABLE(X)                                                                        \
	X("build_info", "gauge", "Always 1; the version is in the label", emit_build_info, NULL)   \
	X("start_time_seconds", "gauge", "Unix time the proxy started", emit_start_time, NULL)     \
	X("config_version", "gauge",                                                               \
	  "Configuration generation: 1 at start, +1 per applied reload", emit_config_version,      \
	  NULL)                                                                                    \
	X("config_reloads_total", "counter", "Configuration reloads by result", emit_reloads,      \
	  NULL)                                                                                    \
	X("config_last_reload_successful", "gauge",                                                \
	  "0 if the last reload attempt was refused or abandoned", emit_last_reload_ok, NULL)      \
	X("vrrp_state", "gauge", "keepalived role reported to the proxy (one-hot)", emit_vrrp,     \
	  NULL)                                                                                    \
	X("listener_up", "gauge", "1 while the endpoint accepts clients", emit_listener_up, NULL)  \
	X("has_writer", "gauge", "1 while a writer is chosen", emit_has_writer, NULL)              \
	X("no_writer_seconds", "gauge", "Seconds since the proxy has had no writer (0 with one)",  \
	  emit_no_writer, NULL)                                                                    \
	X("no_writer_seconds_total", "counter", "Seconds spent without a writer since start",      \
	  emit_no_writer_total, NULL)                                                              \
	X("writer_changes_total", "counter", "Writer changes by reason", emit_writer_changes,      \
	  NULL)                                                                                    \
	X("failover_duration_seconds", "histogram", "Writer lost until a new writer was chosen",   \
	  emit_failover, NULL)                                                                     \
	X("last_writer_change_seconds", "gauge",                                                   \
	  "The last writer change by phase: detect (last sign of life to detection), evict and "   \
	  "first_answer (from detection), gap (longest without an answer); NaN while unknown",     \
	  emit_last_change, NULL)                                                                  \
	X("writer_change_gap_seconds", "histogram",                                                \
	  "Longest gap between answers on the read-write endpoint around each writer change",      \
	  emit_change_gap, NULL)                                                                   \
	X("backend_up", "gauge", "Monitor verdict after fall/rise: 1 up, 0 down", NULL, v_up)      \
	X("backend_state", "gauge", "Node state from the Galera policy (one-hot)",                 \
	  emit_backend_state, NULL)                                                                \
	X("backend_is_writer", "gauge", "1 for the writer", NULL, v_is_writer)                     \
	X("backend_is_reader", "gauge", "1 if the read-only endpoint may use the node", NULL,      \
	  v_is_reader)                                                                             \
	X("backend_maintenance", "gauge", "1 while an operator holds the node in maintenance",     \
	  NULL, v_maintenance)                                                                     \
	X("backend_priority", "gauge", "Configured writer priority (lower is preferred)", NULL,    \
	  v_priority)                                                                              \
	X("backend_wsrep_local_state", "gauge",                                                    \
	  "wsrep_local_state (4 Synced, 2 Donor/Desynced, NaN without Galera)", NULL,              \
	  v_local_state)                                                                           \
	X("backend_wsrep_cluster_size", "gauge", "wsrep_cluster_size as the node reports it",      \
	  NULL, v_cluster_size)                                                                    \
	X("backend_wsrep_local_recv_queue", "gauge", "wsrep_local_recv_queue: write sets queued",  \
	  NULL, v_recv_queue)                                                                      \
	X("backend_probe_duration_seconds", "histogram",                                           \
	  "Successful health probes (connect+query)", emit_probe_duration, NULL)                   \
	X("backend_probe_failures_total", "counter", "Failed health probes by cause",              \
	  emit_probe_failures, NULL)                                                               \
	X("backend_sessions", "gauge", "Client sessions on the backend by endpoint",               \
	  emit_backend_sessions, NULL)                                                             \
	X("backend_connect_failures_total", "counter",                                             \
	  "Session connects to the backend that failed", emit_connect_failures, NULL)              \
	X("backend_handshake_slots_used", "gauge",                                                 \
	  "Backend connections of clients not yet authenticated, parked ones included", NULL,      \
	  v_hs_slots)                                                                              \
	X("backend_handshake_queued", "gauge", "Clients waiting for a handshake slot", NULL,       \
	  v_hs_queued)                                                                             \
	X("backend_deferred_greetings_total", "counter",                                           \
	  "Clients greeted by the proxy itself while the handshake slots were full",               \
	  emit_deferred, NULL)                                                                     \
	X("backend_parked_connections", "gauge",                                                   \
	  "Greeted backend connections kept for the next client", NULL, v_parked)                  \
	X("backend_parked_total", "counter",                                                       \
	  "Greetings kept (parked: a client left them unanswered; warmed: fetched ahead) and "     \
	  "what became of them (reused, finished, dropped)",                                       \
	  emit_park_events, NULL)                                                                  \
	X("backend_evictions_total", "counter", "Times the node was evicted from the group",       \
	  emit_backend_evictions, NULL)                                                            \
	X("evictions_total", "counter", "evs.evict statements that succeeded", emit_evictions,     \
	  NULL)                                                                                    \
	X("eviction_failures_total", "counter", "evs.evict attempts that failed",                  \
	  emit_eviction_failures, NULL)                                                            \
	X("auth_accounts", "gauge", "Accounts read from mysql.global_priv (learning logins)",      \
	  emit_accounts, NULL)                                                                     \
	X("auth_accounts_state", "gauge",                                                          \
	  "How the last read of mysql.global_priv ended (denied: auth.user lacks SELECT on it)",   \
	  emit_accounts_state, NULL)                                                               \
	X("auth_accounts_reads_total", "counter", "Reads of mysql.global_priv by result",          \
	  emit_accounts_reads, NULL)                                                               \
	X("auth_accounts_unknown_user_reads_total", "counter",                                     \
	  "Reads of mysql.global_priv asked for early by a login of an unknown user",              \
	  emit_accounts_unknown, NULL)                                                             \
	X("auth_logins_total", "counter",                                                          \
	  "Logins and COM_CHANGE_USERs the servers accepted, by what the proxy learned from them", \
	  emit_auth_logins, NULL)                                                                  \
	X("auth_sessions_learned", "gauge",                                                        \
	  "Sessions holding a learned native-password secret (in memory only)", emit_auth_learned, \
	  NULL)                                                                                    \
	X("auth_secrets_dropped_total", "counter",                                                 \
	  "Learned secrets wiped because a read showed the account changed, dropped or locked",    \
	  emit_auth_dropped, NULL)                                                                 \
	X("client_connections_accepted_total", "counter", "Client connections accepted",           \
	  emit_accepted, NULL)                                                                     \
	X("client_connections_rejected_total", "counter", "Client connections refused by reason",  \
	  emit_rejected, NULL)                                                                     \
	X("client_connections_closed_total", "counter", "Client sessions ended by reason",         \
	  emit_closed, NULL)                                                                       \
	X("client_connections_active", "gauge", "Client sessions counted against the limit",       \
	  emit_active, NULL)                                                                       \
	X("sessions", "gauge", "Sessions by state", emit_sessions, NULL)                           \
	X("commands_total", "counter", "Client commands by endpoint and command type",             \
	  emit_commands, NULL)                                                                     \
	X("client_received_bytes_total", "counter", "Bytes read from clients", emit_bytes_in,      \
	  NULL)                                                                                    \
	X("client_sent_bytes_total", "counter", "Bytes written to clients", emit_bytes_out, NULL)  \
	X("client_compressed_bytes_total", "counter",                                              \
	  "Compressed clients: bytes of frames on the wire (headers included)", emit_zwire, NULL)  \
	X("client_compressed_payload_bytes_total", "counter",                                      \
	  "Compressed clients: bytes of the packets inside their frames", emit_zpayload, NULL)     \
	X("client_compressed_sessions", "gauge", "Client sessions using the compressed protocol",  \
	  emit_zactive, NULL)                                                                      \
	X("client_compressed_sessions_total", "counter",                                           \
	  "Client sessions that switched the compressed protocol on", emit_zstarted, NULL)         \
	X("client_compressed_frame_errors_total", "counter",                                       \
	  "Compressed clients closed for a frame that did not hold what it claimed", emit_zfailed, \
	  NULL)                                                                                    \
	X("client_tls_handshakes_total", "counter",                                                \
	  "TLS clients by outcome: SSL requests, handshakes done, resumed, failed; plain refused", \
	  emit_tls, NULL)                                                                          \
	X("tls_certificate_expiry_timestamp_seconds", "gauge",                                     \
	  "notAfter of the certificate new TLS clients get (Unix time; 0: no tls)",                \
	  emit_tls_expiry, NULL)                                                                   \
	X("backend_tls_handshakes_total", "counter",                                               \
	  "TLS to the nodes by outcome: SSL requests, handshakes done, resumed, failed, no TLS",   \
	  emit_btls, NULL)                                                                         \
	X("err_packets_relayed_total", "counter", "ERR packets relayed from backends to clients",  \
	  emit_err_packets, NULL)                                                                  \
	X("request_duration_seconds", "histogram", "Command sent until its response was complete", \
	  emit_request_duration, NULL)                                                             \
	X("sessions_drained_total", "counter", "Sessions asked to close at their next idle point", \
	  emit_drained, NULL)                                                                      \
	X("sessions_killed_total", "counter", "Sessions cut without waiting for an idle point",    \
	  emit_killed, NULL)                                                                       \
	X("sessions_movable", "gauge",                                                             \
	  "Ready sessions whose whole state the proxy could re-create on another node",            \
	  emit_movable, NULL)                                                                      \
	X("sessions_not_movable", "gauge",                                                         \
	  "Ready sessions holding state no other node can be given, by reason", emit_not_movable,  \
	  NULL)                                                                                    \
	X("sessions_moved_total", "counter", "Idle sessions moved to another node, by reason",     \
	  emit_moved, NULL)                                                                        \
	X("session_moves_failed_total", "counter", "Moves that ended in a close (move_failed)",    \
	  emit_move_failed, NULL)                                                                  \
	X("session_move_seconds", "histogram", "A move: decided until the new leg took over",      \
	  emit_move_time, NULL)                                                                    \
	X("http_requests_total", "counter", "HTTP requests by handler and status code",            \
	  emit_http_requests, NULL)                                                                \
	X("http_tls_handshakes_total", "counter",                                                  \
	  "HTTPS handshakes on http_listen by outcome (failed: plain HTTP or not TLS)",            \
	  emit_http_tls, NULL)

#endif
