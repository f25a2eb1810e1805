"""At a site: the link to the province hub and the worker that sends the outbox there."""
