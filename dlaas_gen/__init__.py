"""dlaas-gen: typed site configuration to Flux v2 GitOps manifests for a Data Lake as a Service."""

__version__ = "0.1.0"
