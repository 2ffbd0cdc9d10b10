"""The hub values every site gets: the single-user image, resources, storage, hub database, ingress.

Why a component of its own: the data-lake components (auth, EOS, scratch, Rucio, XCache) add to
these values; this one sets what the site file's core sections say, before them.
"""

from __future__ import annotations

from typing import Any

from dlaas_gen.context.common import resources_values
from dlaas_gen.context.images import image_name_tag
from dlaas_gen.context.model import SiteContext, SiteInput


def contribute(site: SiteInput, out: SiteContext) -> None:
    """Contribute the single-user pod, its storage, the hub database and the ingress."""
    config, hv = site.config, out.hub
    su = config.singleuser
    name, tag = image_name_tag(su.image, out.images)
    singleuser: dict[str, Any] = {
        "image": {"name": name, "tag": tag},
        "defaultUrl": su.default_url,
        "startTimeout": su.start_timeout,
        **resources_values(su.cpu, su.memory),
    }
    if su.node_selector:
        singleuser["nodeSelector"] = dict(su.node_selector)
    if su.tolerations:
        singleuser["extraTolerations"] = [t.model_dump(exclude_none=True) for t in su.tolerations]
    storage = config.storage
    if storage.type == "dynamic":
        singleuser["storage"] = {"type": "dynamic", "capacity": str(storage.capacity)}
        if storage.storage_class:
            singleuser["storage"]["dynamic"] = {"storageClass": storage.storage_class}
    else:
        singleuser["storage"] = {
            "type": "static",
            "static": {"pvcName": storage.pvc_name, "subPath": storage.sub_path},
        }
        if storage.slug_scheme:
            hv.add({"hub": {"config": {"KubeSpawner": {"slug_scheme": storage.slug_scheme}}}})
    hv.add({"singleuser": singleuser})

    db = config.hub.db
    if db.type == "sqlite-pvc":
        pvc: dict[str, Any] = {"storage": str(db.capacity)}
        if db.storage_class:
            pvc["storageClassName"] = db.storage_class
        hv.add({"hub": {"db": {"type": "sqlite-pvc", "pvc": pvc}}})
    else:
        hv.add({"hub": {"db": {"type": db.dialect}}})
        hv.add_secret(db.url, "hub.db.url", "hub database URL")

    if config.ingress is not None:
        ing = config.ingress
        ingress: dict[str, Any] = {
            "enabled": True,
            "ingressClassName": ing.class_name,
            "hosts": [ing.host],
            "tls": [{"hosts": [ing.host], "secretName": ing.tls_secret}],
        }
        if ing.cluster_issuer:
            ingress["annotations"] = {"cert-manager.io/cluster-issuer": ing.cluster_issuer}
        hv.add({"ingress": ingress, "proxy": {"service": {"type": "ClusterIP"}}})
