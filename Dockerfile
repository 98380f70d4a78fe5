# The deployment image: the official Airflow 3.3.2 image plus this package's pinned requirements.
FROM apache/airflow:3.3.2-python3.11

COPY requirements.txt /requirements.txt
# Pinning apache-airflow alongside stops pip from silently moving Airflow itself.
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /requirements.txt

# include/ (mappings) is read by path; sandbox/ is importable for the optional emulator profile.
ENV PYTHONPATH=/opt/airflow:/opt/airflow/plugins
