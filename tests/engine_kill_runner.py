"""Run one sync in its own process (the SIGKILL test kills it mid-delivery)."""

import json
import sys

from engine_fixtures import ToyAdapter, registry

from lmsbridge.core.engine.delivery import DeliveryOptions
from lmsbridge.core.engine.runner import Engine, SyncOptions
from lmsbridge.core.store import Store

if __name__ == "__main__":
    url, key_file = sys.argv[1], sys.argv[2]
    store = Store.open(url, key_file)
    eng = Engine(store, registry(ToyAdapter(max_in_flight=1), coursera=False))
    report = eng.sync(options=SyncOptions(delivery=DeliveryOptions(batch_size=1)))
    print(json.dumps([t.as_dict() for t in report.tenants], default=str))
