from tests._docker import docker_client, rabbitmq_image, sample_image, session

__all__ = ["docker_client", "rabbitmq_image", "sample_image", "session"]
