"""The SIP worker process's entry point, apart from the protocol it speaks (issue 11.6:
sip/protocol.py no longer imports sip/worker.py, which imports it).

``SipPool`` starts each worker with :func:`run_worker`; pjsua2 is imported only inside the
child process, by sip/worker.py.
"""

from __future__ import annotations


def run_worker(worker_id: int, config: object, cmd_conn: object, evt_conn: object) -> None:
    """Process entry point; imports pjsua2 only inside the child process."""
    from sip.worker import main

    main(worker_id, config, cmd_conn, evt_conn)  # type: ignore[arg-type]
