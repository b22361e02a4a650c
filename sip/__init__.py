"""SIP and media for outdial, on PJSUA2 — the only package that imports ``pjsua2``.

The engine talks to a *SIP port*: ``sip.pool.SipPool`` (real calls, worker
processes) or ``sip.fake.FakeSipPort`` (in memory, same interface):

    async with SipPool(PoolConfig(...)) as port:
        await port.originate(Originate(call_id, "+15551234567", caller_id, ring_timeout=30))
        event = await port.events.get()      # CallProgress, CallAnswered, CallEnded, ...
        await port.connect_agent(call_id, "sip:agent7@10.0.0.5")

Commands (``sip.commands``) and events (``sip.events``) are frozen dataclasses;
every originated call gets exactly one ``CallEnded``. Errors: ``sip.errors``.
"""
