# The image under test with sshd enabled as the README says.
ARG IMAGE=baseimage-deno:0.1.0
FROM ${IMAGE}
RUN rm -f /etc/service/sshd/down
